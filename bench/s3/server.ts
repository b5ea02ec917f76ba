/**
 * The local S3-protocol server of bench/s3.ts, in a process of its own so
 * that it does not share the snapshot's event loop: the tests' server
 * (test/support/s3.ts) with a bucket `bench`. Prints its endpoint as one
 * JSON line, then serves until stdin closes.
 */
import { startS3Server } from '../../test/support/s3';

async function main(): Promise<void> {
  const server = await startS3Server();
  await server.bucket('bench');
  process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.stop().then(() => process.exit(0)));
}

void main();
