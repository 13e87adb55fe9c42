/** The services process: the ITSM records API and the web console. */
import { runProcess } from '../runtime/run.ts';

await runProcess('services', ['services', 'web']);
