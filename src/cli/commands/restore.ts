import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { isS3Url } from '../../s3/url';
import { checkFilePath, endpointOption, snapshotInput } from '../files';
import { formatBytes, formatTable } from '../../sim/format';
import { print } from '../output';
import { withCancelSignals } from '../signals';
import { writeRawImage, type RawImageReport } from '../rawImage';
import { usageError } from '../usage';

interface RestoreFlags {
  readonly into: string;
  readonly force?: boolean;
  readonly json?: boolean;
  readonly endpoint?: string;
}

/** Adds `bgsnap restore FILE --into RAW_IMAGE` to `program`. */
export function registerRestore(program: Command): Command {
  return program
    .command('restore')
    .summary('Write the image a snapshot file holds to a raw file')
    .description(
      'Write the memory a snapshot file holds, as it was at t0, to a raw image: the blocks one after another in block order. ' +
        'The file is verified first, and the image gets its name only once it is complete: a bad file leaves nothing under that name. ' +
        '--into <raw_image> (required) names the raw image; its folder must exist.',
    )
    .usage('<file> --into <raw_image> [options]')
    .argument('<file>', 'the snapshot file')
    .addOption(new Option('--into <raw_image>', 'the raw image to write (required)').makeOptionMandatory().hideHelp())
    .option('--force', 'replace the raw image if it exists')
    .option('--json', 'print what was written as JSON')
    .addOption(endpointOption())
    .action((file: string, flags: RestoreFlags, command: Command) => run(file, flags, command));
}

async function run(path: string, flags: RestoreFlags, command: Command): Promise<void> {
  // Step 1: a snapshot that is not a file, and an output path that cannot name the image, are usage errors.
  const into = flags.into;
  const { location } = await snapshotInput(path, command, flags.endpoint);
  checkFilePath(into, '--into <raw_image>', command);
  const target = statOrUndefined(into);
  const source = isS3Url(path) ? undefined : statOrUndefined(path);
  if (resolve(into) === resolve(path) || (source !== undefined && target !== undefined && source.ino === target.ino && source.dev === target.dev)) {
    usageError(command, `option '--into <raw_image>': ${JSON.stringify(into)} is the snapshot file itself; name another file`);
  }

  // Step 2: the restore; Ctrl-C stops it and removes what it wrote.
  const report = await withCancelSignals((signal) => writeRawImage(location, into, { overwrite: flags.force ?? false, signal }));
  print(flags.json ? JSON.stringify(restoreJson(path, into, report), null, 2) : describe(path, into, report));
}

function describe(path: string, into: string, r: RawImageReport): string {
  const pageSize = r.header.pageSize;
  const head =
    `restored ${JSON.stringify(path)} into ${JSON.stringify(into)}: ${r.bytes} bytes (${formatBytes(r.bytes)}), ` +
    `${r.pages} pages of ${formatBytes(pageSize)}, ${r.zeroPages} of them zero`;
  const rows = [['block', 'offset', 'size'], ...r.blocks.map((b) => [b.name, String(b.offset), formatBytes(b.size)])];
  return `${head}\n${formatTable(rows)}`;
}

function restoreJson(path: string, into: string, r: RawImageReport) {
  return { path, into, bytes: r.bytes, pageSize: r.header.pageSize, pages: r.pages, zeroPages: r.zeroPages, blocks: r.blocks };
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
