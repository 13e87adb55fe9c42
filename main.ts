/** Single-machine mode: ingest, services API, correlator, scheduler and console in one process. */
import { runProcess } from './runtime/run.ts';
import { processRoles } from './runtime/tocsin.ts';

await runProcess('all', processRoles);
