import { tarLength, tarStream, type TarEntry } from "../artifacts/tar-stream";

/** A version's archive.tar as it is sent: streamed entry by entry, its exact length known up front. */
export interface VersionArchiveDownload {
  body: ReadableStream<Uint8Array>;
  /** Bytes in the whole archive, before the first is read (a download shows its progress). */
  length: number;
  /** `<name>-v<version>.tar`, the name percent-encoded: what the download is saved as. */
  fileName: string;
}

/** Assembles the tar of a version's entries (DeliveryService.archive decides which, model.sig first). */
export function versionArchive(name: string, version: number, entries: TarEntry[]): VersionArchiveDownload {
  return {
    body: tarStream(entries),
    length: tarLength(entries),
    fileName: `${encodeURIComponent(name)}-v${version}.tar`,
  };
}
