/**
 * Writes one tier of bench/correlation to files, for a replay through the real pipeline:
 *
 *   npx tsx bench/correlation/write-storm.ts --tier A --out storm [--days 4 --seed 7 …]
 *
 * - `storm.ndjson`: the canonical alerts in delivery order, one per line, as
 *   `POST /api/v1/ingest/generic` takes them (`Content-Type: application/x-ndjson`);
 * - `storm.truth.ndjson`: line for line, the delivery time and the truth of the same delivery
 *   (`alert`, `incident`, `rootCause`, `problem`);
 * - `storm.cmdb.json`: the CMDB the engine sees, for `POST /api/v1/cmdb/import`;
 * - `storm.estate.json`: the real CMDB the storm was generated from.
 *
 * The stream goes to disk as it is generated: memory stays bounded however long the storm.
 */
import { once } from 'node:events';
import { createWriteStream, writeFileSync, type WriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { stormArgs, tiersFromArgs } from './settings.ts';
import { generateStorm } from './storms.ts';

const { values: args } = parseArgs({
  options: {
    ...stormArgs,
    tier: { type: 'string', default: 'A' },
    out: { type: 'string', default: 'storm' },
  },
});

const [tier] = tiersFromArgs(args, [args.tier]);
if (!tier) throw new Error(`unknown tier ${args.tier}`);

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

async function close(stream: WriteStream): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}

writeFileSync(`${args.out}.cmdb.json`, JSON.stringify(tier.cmdb) + '\n');
writeFileSync(`${args.out}.estate.json`, JSON.stringify(tier.estate) + '\n');
const alerts = createWriteStream(`${args.out}.ndjson`);
const truth = createWriteStream(`${args.out}.truth.ndjson`);
let deliveries = 0;
const incidents = new Set<string>();
for (const { delivery, truth: t } of generateStorm(tier)) {
  deliveries++;
  if (t.incident) incidents.add(t.incident);
  await write(alerts, JSON.stringify(delivery.alert) + '\n');
  await write(
    truth,
    JSON.stringify({ seq: delivery.seq, deliveredAt: delivery.deliveredAt, ...t }) + '\n',
  );
}
await Promise.all([close(alerts), close(truth)]);
console.log(
  `tier ${tier.name} (${tier.summary}): ${deliveries} deliveries of ${incidents.size} incidents → ` +
    `${args.out}.ndjson, ${args.out}.truth.ndjson, ${args.out}.cmdb.json, ${args.out}.estate.json`,
);
