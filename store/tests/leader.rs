//! Leadership among processes sharing one database, on SQLite and on PostgreSQL: one at a time,
//! and the next takes over as soon as the leader lets go.

use store::leader::Leadership;
use store::on_both_backends;
use store::testing::TestDatabase;

/// A scope no other test (or test run on the same server) uses: PostgreSQL's advisory locks are
/// per database, not per schema.
fn private_scope() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("leader-test-{}-{nanos}", std::process::id())
}

fn one_leads_at_a_time_and_the_next_takes_over(db: &mut TestDatabase) {
    let url = db.url();
    let scope = private_scope();
    let mut first = Leadership::try_take(&url, &scope)
        .unwrap()
        .expect("nobody leads a fresh scope");
    assert!(first.still_held());
    assert!(
        Leadership::try_take(&url, &scope).unwrap().is_none(),
        "a second process must not lead while the first does"
    );
    let other = Leadership::try_take(&url, &format!("{scope}-other")).unwrap();
    assert!(other.is_some(), "another scope is free");
    drop(first);
    assert!(
        Leadership::try_take(&url, &scope).unwrap().is_some(),
        "leadership is free again once its holder lets go"
    );
}

on_both_backends!(one_leads_at_a_time_and_the_next_takes_over);
