import { z } from "zod";
import { int } from "../input";

// Request messages of MLflow's mlflow_artifacts.proto.
export const ListArtifacts = z.object({ path: z.string().optional() });
export const CreateMultipartUpload = z.object({ path: z.string().optional(), num_parts: int });
export const CompleteMultipartUpload = z.object({
  path: z.string().optional(),
  upload_id: z.string(),
  parts: z.array(z.object({ part_number: int, etag: z.string() })),
});
export const AbortMultipartUpload = z.object({ path: z.string().optional(), upload_id: z.string() });
