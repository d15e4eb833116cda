DROP INDEX probe_rejections_by_reason;
DROP TABLE probe_rejections;
