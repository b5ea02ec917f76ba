import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { checkFilePath, checkInputFile } from '../files';
import { formatBytes, formatTable } from '../../sim/format';
import { print } from '../output';
import { withCancelSignals } from '../signals';
import { writeRawImage, type RawImageReport } from '../rawImage';
import { usageError } from '../usage';

interface RestoreFlags {
  readonly into: string;
  readonly force?: boolean;
  readonly json?: boolean;
}

/** Adds `bgsnap restore FILE... --into RAW_IMAGE` to `program`. */
export function registerRestore(program: Command): Command {
  return program
    .command('restore')
    .summary('Write the image a snapshot file holds to a raw file')
    .description(
      'Write the memory a snapshot file holds, as it was at t0, to a raw image: the blocks one after another in block order. ' +
        'Given a chain (base first: a full snapshot, then its incremental children in order), writes the memory at the newest link\'s t0. ' +
        'The files are verified first (and the chain rules), and the image gets its name only once it is complete: a bad file or chain leaves nothing under that name. ' +
        '--into <raw_image> (required) names the raw image; its folder must exist.',
    )
    .usage('<file...> --into <raw_image> [options]')
    .argument('<file...>', 'the snapshot file, or the files of a chain, base first')
    .addOption(new Option('--into <raw_image>', 'the raw image to write (required)').makeOptionMandatory().hideHelp())
    .option('--force', 'replace the raw image if it exists')
    .option('--json', 'print what was written as JSON')
    .action((files: string[], flags: RestoreFlags, command: Command) => run(files, flags, command));
}

async function run(paths: readonly string[], flags: RestoreFlags, command: Command): Promise<void> {
  // Step 1: a snapshot that is not a file, and an output path that cannot name the image, are usage errors.
  const into = flags.into;
  for (const path of paths) checkInputFile(path, command);
  checkFilePath(into, '--into <raw_image>', command);
  const target = statOrUndefined(into);
  for (const path of paths) {
    const source = statOrUndefined(path);
    if (resolve(into) === resolve(path) || (source !== undefined && target !== undefined && source.ino === target.ino && source.dev === target.dev)) {
      usageError(command, `option '--into <raw_image>': ${JSON.stringify(into)} is ${paths.length === 1 ? 'the snapshot file itself' : 'a file of the chain'}; name another file`);
    }
  }

  // Step 2: the restore; Ctrl-C stops it and removes what it wrote.
  const report = await withCancelSignals((signal) => writeRawImage(paths, into, { overwrite: flags.force ?? false, signal }));
  const path = paths.length === 1 ? (paths[0] as string) : paths;
  print(flags.json ? JSON.stringify(restoreJson(path, into, report), null, 2) : describe(paths, into, report));
}

function describe(paths: readonly string[], into: string, r: RawImageReport): string {
  const pageSize = r.header.pageSize;
  const what = paths.length === 1 ? JSON.stringify(paths[0]) : `the chain of ${paths.length} files ${paths.map((p) => JSON.stringify(p)).join(', ')}`;
  const head =
    `restored ${what} into ${JSON.stringify(into)}: ${r.bytes} bytes (${formatBytes(r.bytes)}), ` +
    `${r.pages} pages of ${formatBytes(pageSize)}, ${r.zeroPages} of them zero`;
  const rows = [['block', 'offset', 'size'], ...r.blocks.map((b) => [b.name, String(b.offset), formatBytes(b.size)])];
  return `${head}\n${formatTable(rows)}`;
}

function restoreJson(path: string | readonly string[], into: string, r: RawImageReport) {
  return { path, into, bytes: r.bytes, pageSize: r.header.pageSize, pages: r.pages, zeroPages: r.zeroPages, blocks: r.blocks };
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
