/**
 * Reads a file as a stream of byte chunks, gunzipping on the fly when the file starts with the gzip
 * magic bytes (whatever its name). Memory stays at about one chunk whatever the file size. Breaking out
 * of the loop closes the file. Missing files and corrupt gzip become TapedeckErrors naming the file.
 */
import fs from 'node:fs';
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { TapedeckError } from '../../../../domain/core/errors.js';
import type { BinaryFileReader, BinaryFileSummary } from './binaryfile.js';

export interface ByteSourceOptions {
  /** Bytes per chunk (read size, and gunzip output size). Default 1 MiB. */
  chunkSize?: number;
  /** 'auto' (default) looks at the first two bytes. */
  gzip?: 'auto' | boolean;
}

export const DEFAULT_CHUNK_SIZE = 1 << 20;

/** Opens nothing: only checks that `file` is a readable regular file, with an error a person can act on. */
export async function checkReadableFile(file: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TapedeckError('FILE_NOT_FOUND', `no such file: ${file}`, { file });
    throw new TapedeckError('FILE_UNREADABLE', `cannot read ${file}: ${(e as Error).message}`, { file });
  }
  if (!st.isFile()) throw new TapedeckError('FILE_UNREADABLE', `${file} is not a regular file`, { file });
}

export async function isGzipFile(file: string): Promise<boolean> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

export async function* readFileChunks(file: string, options: ByteSourceOptions = {}): AsyncGenerator<Uint8Array> {
  await checkReadableFile(file);
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const gz = options.gzip === undefined || options.gzip === 'auto' ? await isGzipFile(file) : options.gzip;
  const source = fs.createReadStream(file, { highWaterMark: chunkSize });
  // pipeline, not pipe: breaking out of the loop destroys the gunzip stream, and pipeline then closes the file.
  const stream = gz ? pipeline(source, zlib.createGunzip({ chunkSize }), () => {}) : source;
  let produced = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      produced += chunk.length;
      yield chunk;
    }
  } catch (e) {
    if (e instanceof TapedeckError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (gz && (err.code?.startsWith('Z_') || err.errno !== undefined)) {
      throw new TapedeckError('GZIP_CORRUPT', `gzip data in ${file} is corrupt or cut short (${err.message}) after ${produced} decompressed bytes`, {
        file,
        offset: produced,
      });
    }
    throw new TapedeckError('FILE_UNREADABLE', `cannot read ${file}: ${err.message}`, { file });
  } finally {
    source.destroy();
  }
}

/** Feeds a file (gzip or not) through a BinaryFileReader, stopping early when the reader is done. */
export async function pumpFile(file: string, reader: BinaryFileReader, options: ByteSourceOptions = {}): Promise<BinaryFileSummary> {
  for await (const chunk of readFileChunks(file, options)) {
    reader.push(chunk);
    if (reader.done) break;
  }
  return reader.finish();
}
