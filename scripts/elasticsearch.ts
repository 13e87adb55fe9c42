/**
 * A real Elasticsearch 8 node without Docker: the jars come from Maven Central (cached in ~/.m2)
 * and run in one JVM. `tsx scripts/elasticsearch.ts [--fetch-only]`; see elasticsearch/NOTES.md.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const projectDir = join(root, 'scripts', 'elasticsearch');
const pom = join(projectDir, 'pom.xml');
const launcherSource = join(projectDir, 'src/main/java/org/elasticsearch/node/TocsinNode.java');
const cacheDir = join(root, '.cache', 'elasticsearch');
const MAIN_CLASS = 'org.elasticsearch.node.TocsinNode';
const STARTUP_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 30_000;

/** Options of {@link startElasticsearch}. */
export interface StartOptions {
  port?: number;
  dataDir?: string;
  log?: (line: string) => void;
}

/** A running node. */
export interface ElasticsearchNode {
  url: string;
  /** Settles with the JVM's exit code once it has exited, for whatever reason. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Downloads (first time only) the node's jars and compiles its launcher: CI's install step. */
export async function fetchElasticsearch(log: (line: string) => void = () => {}): Promise<void> {
  await resolveClasspath(log);
}

/** Whether an Elasticsearch node answers `GET /` on url within two seconds. */
export async function isElasticsearchUp(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok && res.headers.get('x-elastic-product') === 'Elasticsearch';
  } catch {
    return false;
  }
}

/** Starts a single-node cluster `tocsin-dev` on 127.0.0.1 and resolves once it is yellow or green. */
export async function startElasticsearch(opts: StartOptions = {}): Promise<ElasticsearchNode> {
  const port = opts.port ?? 9200;
  const dataDir = resolve(opts.dataDir ?? join(cacheDir, 'data'));
  const log = opts.log ?? (() => {});
  const url = `http://127.0.0.1:${port}`;
  // Otherwise the health check below could be answered by that other node.
  if (await isElasticsearchUp(url)) throw new Error(`Elasticsearch already answers on ${url}`);
  const classpath = await resolveClasspath(log);
  mkdirSync(dataDir, { recursive: true });

  const settings: Record<string, string> = {
    'cluster.name': 'tocsin-dev',
    'node.name': 'tocsin-dev',
    'path.home': dataDir,
    'path.data': dataDir,
    'network.host': '127.0.0.1',
    'http.port': String(port),
    'discovery.type': 'single-node',
    // Dev and CI disks are often nearly full; watermarks would make indices read-only.
    'cluster.routing.allocation.disk.threshold_enabled': 'false',
  };
  const jvmArgs = [
    '-Xms512m',
    '-Xmx1g',
    '-Xss1m',
    '-Dfile.encoding=UTF-8',
    '-Djava.awt.headless=true',
    '-XX:-OmitStackTraceInFastThrow',
    // As in the distribution's own JVM options.
    '-Dio.netty.noUnsafe=true',
    '-Dio.netty.noKeySetOptimization=true',
    '-Dio.netty.recycler.maxCapacityPerThread=0',
    '-Dlog4j2.formatMsgNoLookups=true',
    '-Dlog4j2.disable.jmx=true',
    // Keeps logging alive while the launcher's shutdown hook closes the node.
    '-Dlog4j.shutdownHookEnabled=false',
    // The distribution's variable for extra JVM options, e.g. a bigger heap.
    ...(process.env.ES_JAVA_OPTS?.split(/\s+/).filter(Boolean) ?? []),
  ];
  const child = spawn(
    javaCommand(),
    [
      ...jvmArgs,
      '-cp',
      classpath,
      MAIN_CLASS,
      '--exit-on-stdin-close',
      ...Object.entries(settings).map(([k, v]) => `-E${k}=${v}`),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );

  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 500) tail.shift();
      log(line);
    });
  }
  // Stack frames would crowd out the messages that say what went wrong.
  const lastLines = () =>
    tail
      .filter((line) => !/^\s+(at |\.\.\. \d+ (more|common frames omitted))/.test(line))
      .slice(-40)
      .join('\n');

  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolveExit) => {
    child.on('error', (err) => {
      tail.push(`cannot run java: ${err.message}`);
      exitCode = null;
      resolveExit(null);
    });
    // 'close' rather than 'exit': its last output lines have been read by then.
    child.on('close', (code, signal) => {
      exitCode = code ?? (signal ? null : 0);
      resolveExit(exitCode);
    });
  });

  const stop = async (): Promise<void> => {
    if (exitCode !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (exitCode === undefined) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `Elasticsearch did not become healthy on ${url} within ${STARTUP_TIMEOUT_MS / 1000} s. Last output:\n${lastLines()}`,
      );
    }
    if (await isHealthy(url)) return { url, exited, stop };
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`Elasticsearch exited (code ${exitCode}) before it was healthy:\n${lastLines()}`);
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, {
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return false;
    }
    const health = (await res.json()) as { status?: string; timed_out?: boolean };
    return health.timed_out === false && health.status !== 'red';
  } catch {
    return false;
  }
}

function javaCommand(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/**
 * The JVM classpath: the launcher's classes, then every jar Maven resolved. Cached per hash of the
 * pom and launcher, so that a warm start runs no Maven; offline first, so that it needs no network.
 */
async function resolveClasspath(log: (line: string) => void): Promise<string> {
  const hash = createHash('sha256')
    .update(readFileSync(pom))
    .update(readFileSync(launcherSource))
    .digest('hex')
    .slice(0, 16);
  const buildDir = join(cacheDir, `target-${hash}`);
  const classes = join(buildDir, 'classes');
  const cached = join(cacheDir, `classpath-${hash}.txt`);
  if (existsSync(cached)) {
    const entries = readFileSync(cached, 'utf8').trim().split(delimiter);
    if (entries.every((entry) => existsSync(entry))) return entries.join(delimiter);
  }

  mkdirSync(cacheDir, { recursive: true });
  const partial = `${cached}.${process.pid}.tmp`;
  const args = [
    '-q',
    '-B',
    '-Dstyle.color=never',
    '-f',
    pom,
    `-Dtocsin.buildDir=${buildDir}`,
    'compile',
    'dependency:build-classpath',
    '-Dmdep.includeScope=runtime',
    `-Dmdep.outputFile=${partial}`,
  ];
  try {
    try {
      await mvn(['-o', ...args]);
    } catch {
      log('Elasticsearch: downloading its jars from Maven Central into ~/.m2 (once) ...');
      await mvn(args);
    }
    const classpath = [classes, readFileSync(partial, 'utf8').trim()].join(delimiter);
    writeFileSync(partial, classpath);
    renameSync(partial, cached);
    return classpath;
  } finally {
    rmSync(partial, { force: true });
  }
}

function mvn(args: string[]): Promise<void> {
  return new Promise((resolveRun, reject) => {
    execFile('mvn', args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolveRun();
      const output = `${stdout}${stderr}`.trim().split('\n').slice(-30).join('\n');
      const hint = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (is Maven installed?)' : '';
      reject(new Error(`mvn ${args.join(' ')} failed${hint}:\n${output}`));
    });
  });
}

async function main(): Promise<void> {
  if (process.argv.includes('--fetch-only')) {
    await fetchElasticsearch((line) => console.log(line));
    console.log('Elasticsearch jars resolved.');
    return;
  }
  const port = Number(process.env.ELASTICSEARCH_PORT ?? 9200);
  const url = `http://127.0.0.1:${port}`;
  if (await isElasticsearchUp(url)) {
    console.log(`Elasticsearch already answers on ${url}; nothing to start.`);
    return;
  }
  const started = Date.now();
  const node = await startElasticsearch({
    port,
    dataDir: process.env.ELASTICSEARCH_DATA_DIR,
    log: (line) => console.log(line),
  });
  console.log(
    `Elasticsearch ready on ${node.url} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    console.log('Stopping Elasticsearch ...');
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  const code = await node.exited;
  if (stopping) return; // shutdown() exits once stop() has finished.
  console.error(`Elasticsearch exited unexpectedly (code ${code}).`);
  process.exit(1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
