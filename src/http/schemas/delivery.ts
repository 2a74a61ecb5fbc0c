import { z } from "zod";
import { int } from "../input";

export const CreateSignedUrls = z.object({
  paths: z.array(z.string()).optional(),
  expires_in: int.optional(),
});
