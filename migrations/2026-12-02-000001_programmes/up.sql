-- What a programme's statements need besides its sealed epochs, recorded with every seal so
-- that `statement` can be read with only the database: the payout denom, and the watched
-- wallets whose transfers count as payments (comma-separated bech32 addresses, which never
-- hold a comma).
CREATE TABLE programmes (
    name TEXT PRIMARY KEY NOT NULL,
    denom TEXT NOT NULL,
    watched_wallets TEXT NOT NULL
);
