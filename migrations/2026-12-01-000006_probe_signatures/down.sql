DROP TABLE probe_signatures;
