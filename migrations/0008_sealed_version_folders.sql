-- Issue 13: every path under a registered version's source folder is sealed, not only the paths
-- its manifest lists (0002 refuses changing or deleting those). The MLflow client loading a
-- version downloads the whole folder, so a file added there later would change the version. The
-- folder is the version's storage_location (`mlflow-artifacts:/<folder>`), resolved at
-- registration; a version whose files are elsewhere (s3://...) or that failed has none here.
-- A folder holds every path that equals it or lies below it segment-wise (`a/b/c` is in `a/b`,
-- `a/bc` is not). The range bounds the candidates to locations that can be a prefix of the path
-- (from its first segment up to the path itself), for an index on storage_location to use.
-- The application checks first; these are the guarantee, in the same transaction as the write.
CREATE TRIGGER artifact_objects_sealed_folder_insert BEFORE INSERT ON artifact_objects
WHEN EXISTS (
  SELECT 1 FROM model_versions
  WHERE storage_location >= 'mlflow-artifacts:/' || (CASE WHEN instr(NEW.path, '/') > 0 THEN substr(NEW.path, 1, instr(NEW.path, '/') - 1) ELSE NEW.path END)
    AND storage_location <= 'mlflow-artifacts:/' || NEW.path
    AND ('mlflow-artifacts:/' || NEW.path = storage_location
      OR substr('mlflow-artifacts:/' || NEW.path, 1, length(storage_location) + 1) = storage_location || '/')
)
BEGIN
  SELECT RAISE(ABORT, 'MODELGATE_IMMUTABLE_ARTIFACT');
END;
--> statement-breakpoint
CREATE TRIGGER artifact_objects_sealed_folder_update BEFORE UPDATE ON artifact_objects
WHEN EXISTS (
  SELECT 1 FROM model_versions
  WHERE storage_location >= 'mlflow-artifacts:/' || (CASE WHEN instr(NEW.path, '/') > 0 THEN substr(NEW.path, 1, instr(NEW.path, '/') - 1) ELSE NEW.path END)
    AND storage_location <= 'mlflow-artifacts:/' || NEW.path
    AND ('mlflow-artifacts:/' || NEW.path = storage_location
      OR substr('mlflow-artifacts:/' || NEW.path, 1, length(storage_location) + 1) = storage_location || '/')
)
BEGIN
  SELECT RAISE(ABORT, 'MODELGATE_IMMUTABLE_ARTIFACT');
END;
