import { describe, expect, it } from 'vitest';
import { GeometryMemory, OptionError, sweep, sweepHtml, type StorageProfileName } from '../../src';
import { formatBytes } from '../../src/sim/format';
import { sweepRows } from '../../src/sim/tables';

const memory = new GeometryMemory({ blocks: [{ name: 'ram', size: 64 << 20 }] });
const workload = { writers: 2, writesPerSecond: 5000 };

describe('sweep', () => {
  const rows = sweep(memory, { strategies: ['queue', 'copy'], poolBytes: [0, 64 << 10, 1 << 20], storages: ['hdd', 'ssd'], workload });

  it('runs queue once per storage and copy once per pool size', () => {
    expect(rows.map((r) => `${r.storage} ${r.strategy} ${r.poolBytes}`)).toEqual([
      'hdd queue 0',
      'hdd copy 0',
      'hdd copy 65536',
      'hdd copy 1048576',
      'ssd queue 0',
      'ssd copy 0',
      'ssd copy 65536',
      'ssd copy 1048576',
    ]);
    for (const r of rows) expect(r.result.stats.pool.pages * 4096).toBe(r.strategy === 'copy' ? r.poolBytes : 0);
  });

  it('shows copy without a pool behaving exactly like queue, and a pool cutting the stall on ssd', () => {
    for (const storage of ['hdd', 'ssd'] as StorageProfileName[]) {
      const [queue, copy0] = rows.filter((r) => r.storage === storage).map((r) => r.result);
      expect({ ...copy0?.stats, strategy: 'queue' }).toStrictEqual(queue?.stats);
    }
    // On the hdd every 4 KiB write costs an 8 ms seek: copies drain too slowly for any pool
    // to keep up. The ssd drains them, and the pool takes the writers' stall away.
    // (Faults on pages whose bulk write is in flight still wait for it, whatever the pool.)
    const [queue, , , copy1m] = rows.filter((r) => r.storage === 'ssd').map((r) => r.result);
    expect(queue?.stats.stall.p50).toBeGreaterThan(1);
    // A copy's stall is the copy itself: a 4 KiB page at the simulator's 4 GB/s.
    expect(copy1m?.stats.stall.p50).toBeCloseTo((4096 / 4e9) * 1000, 9);
    expect(copy1m?.stats.stall.p99).toBeLessThan((queue?.stats.stall.p99 ?? 0) / 2);
    expect(copy1m?.hostMemory.allocatedBytes).toBeGreaterThan(queue?.hostMemory.allocatedBytes ?? Infinity);
  });

  it('prices host memory as allocated (page states + the whole pool), with the pool peak in its own column', () => {
    const [head, ...body] = sweepRows(rows);
    expect(head?.slice(-2)).toEqual(['host', 'pool peak']);
    const stateBytes = memory.pageCount;
    body.forEach((cells, i) => {
      const row = rows[i]!;
      // copy holds its whole pool from before t0, however little of it the run used.
      expect(cells.at(-2)).toBe(formatBytes(stateBytes + (row.strategy === 'copy' ? row.poolBytes : 0)));
      expect(cells.at(-1)).toBe(row.strategy === 'queue' ? '-' : formatBytes(row.result.stats.pool.peakBytes));
    });
    // On the ssd a 1 MiB pool peaks far below its size; the price is still the whole pool.
    const copy1m = rows.find((r) => r.storage === 'ssd' && r.poolBytes === 1 << 20)!.result;
    expect(copy1m.hostMemory.poolPeakBytes).toBeLessThan(1 << 19);
    expect(copy1m.hostMemory.allocatedBytes).toBe(stateBytes + (1 << 20));
  });

  it('plots each run at its allocated host memory, and labels the queue point "queue"', () => {
    const html = sweepHtml(rows);
    for (const r of rows) {
      const host = formatBytes(r.result.hostMemory.allocatedBytes);
      const name = r.strategy === 'queue' ? 'queue' : `copy, pool ${formatBytes(r.poolBytes)}`;
      expect(html).toContain(`<title>${name}: p99 `);
      expect(html).toMatch(new RegExp(`<title>${name}: p99 [^<]*, host ${host.replace('.', '\\.')}[ ,]`));
    }
    // copy without a pool is on the queue point: drawn over the square, and named in its label, per plot
    // (two storages, each with a stall plot and a duration plot).
    expect(html.match(/>queue, pool 0 B<\/text>/g)).toHaveLength(4);
    expect(html.match(/>queue<\/text>/g)).toHaveLength(4); // the legend, per plot
    for (const svg of html.match(/<svg [\s\S]*?<\/svg>/g) ?? []) {
      expect(svg.indexOf('<rect x=')).toBeLessThan(svg.indexOf('<circle '));
    }
    expect(html).toContain('page states + pool');
  });

  it('writes a self-contained HTML report: per storage, the stall and the duration plotted side by side, and the table', () => {
    const html = sweepHtml(rows, { subtitle: '8 MiB <test>' });
    const svgs = html.match(/<svg [\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(4);
    expect(svgs.map((svg) => (svg.match(/rotate\(-90\)" text-anchor="middle">([^<]*)</) ?? [])[1])).toEqual([
      'writer stall p99', 'snapshot duration', 'writer stall p99', 'snapshot duration',
    ]);
    expect(html.match(/<circle /g)).toHaveLength(12);
    expect(html).toContain('<h2>hdd</h2>');
    expect(html).toContain('8 MiB &#60;test&#62;');
    expect(html).not.toMatch(/<script|<link|src=/);
    expect(html.replaceAll('http://www.w3.org/2000/svg', '')).not.toContain('http');
    expect(html.match(/<tr>/g)).toHaveLength(rows.length + 1);
  });

  it('checks every list before running anything', () => {
    expect(() => sweep(memory, { poolBytes: [1000] })).toThrow(OptionError);
    expect(() => sweep(memory, { poolBytes: [1000] })).toThrow(/`poolBytes\[0\]`/);
    expect(() => sweep(memory, { storages: ['ssd', 'tape' as StorageProfileName] })).toThrow(/`storages\[1\]`/);
    expect(() => sweep(memory, { strategies: [] })).toThrow(/`strategies`/);
  });
});
