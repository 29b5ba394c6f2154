/**
 * A path read from a file (a manifest, a config) names something inside that file's folder, never
 * elsewhere: it is relative, has no `..` that climbs out, and does not lead out through a symbolic
 * link. Anything else is refused with one line naming the path and the file it came from.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TapedeckError, type TapedeckErrorCode } from '../../domain/core/errors.js';

function inside(folder: string, target: string): boolean {
  const rel = path.relative(folder, target);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * The absolute path of `relative` inside `folder`. Throws PATH_OUTSIDE (code `code` when given) naming
 * the path and `where` (the file that held it, and the field).
 */
export function confinedPath(folder: string, relative: unknown, where: { file: string; field: string }, code: TapedeckErrorCode = 'PATH_OUTSIDE'): string {
  const refuse = (why: string): never => {
    throw new TapedeckError(code, `path ${JSON.stringify(relative)} ${why}: a path in ${path.basename(where.file)} must name a file inside ${folder}`, where);
  };
  if (typeof relative !== 'string' || relative.length === 0 || relative.includes('\0')) return refuse('is not a file name');
  if (path.isAbsolute(relative) || /^[a-zA-Z]:/.test(relative)) return refuse('is absolute');
  const base = path.resolve(folder);
  const target = path.resolve(base, relative);
  if (!inside(base, target)) return refuse('leads out of its folder');
  if (fs.existsSync(target)) {
    // A link inside the folder must not lead out of it either.
    const real = fs.realpathSync(target);
    if (!inside(fs.realpathSync(base), real)) return refuse(`leads out of its folder through a link (to ${real})`);
  }
  return target;
}
