/** The ingest process: webhooks in, durable in PostgreSQL, queued for the correlator. */
import { runProcess } from '../runtime/run.ts';

await runProcess('ingest', ['ingest']);
