-- A registered version's files never change: refuse to repoint or delete an artifact path that a
-- version manifest references. The application checks first; this is the guarantee.
CREATE TRIGGER artifact_objects_immutable_update BEFORE UPDATE ON artifact_objects
WHEN EXISTS (SELECT 1 FROM model_version_files WHERE artifact_path = OLD.path)
BEGIN
  SELECT RAISE(ABORT, 'MODELGATE_IMMUTABLE_ARTIFACT');
END;
--> statement-breakpoint
CREATE TRIGGER artifact_objects_immutable_delete BEFORE DELETE ON artifact_objects
WHEN EXISTS (SELECT 1 FROM model_version_files WHERE artifact_path = OLD.path)
BEGIN
  SELECT RAISE(ABORT, 'MODELGATE_IMMUTABLE_ARTIFACT');
END;
