DROP TABLE provider_registrations;
