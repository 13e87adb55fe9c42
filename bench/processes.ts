/**
 * The child processes of the benchmarks: each Tocsin role (or a bare server) runs in its own
 * process, as in production, started with tsx and stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Queryable } from '../services/store/db.ts';

/** The repository root. */
export const root = new URL('..', import.meta.url).pathname;
/**
 * Writes a benchmark's figures to bench/results/<bench>-<time>.json, with when, on what machine
 * and under what load average (`loadBefore`, taken when it started, and now), and prints where.
 */
export function writeResults(
  bench: string,
  loadBefore: number,
  figures: Record<string, unknown>,
): string {
  const at = new Date().toISOString();
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${bench}-${at.replaceAll(':', '-')}.json`);
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version };
  const load = { before: loadBefore, after: loadavg()[0] };
  writeFileSync(file, JSON.stringify({ bench, at, machine, load, ...figures }, null, 1));
  console.log(`results: ${file}`);
  return file;
}

/** The machine and its load average before (`loadBefore`) and now, as a benchmark prints it. */
export function describeMachine(loadBefore: number): string {
  const cpu = cpus()[0]?.model.split(' ').slice(0, 2).join(' ');
  return `${cpu} × ${cpus().length}, Node ${process.version}, load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after`;
}

/**
 * A benchmark's table as Markdown lines: the header, its rule and the rows, each column as wide
 * as its widest cell, left-aligned but for the columns in `right` (numbers).
 */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly number[] = [],
): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (right.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** The tsx binary every benchmark process runs with. */
export const tsx = join(root, 'node_modules/.bin/tsx');

/** A started child process and the last 4,000 characters it printed (for error messages). */
export type StartedProcess = { child: ChildProcess; output: () => string };

/** Starts a process in the repository root with these variables added to the environment. */
export function startProcess(
  command: string,
  argv: string[],
  env: Record<string, string>,
): StartedProcess {
  let output = '';
  const child = spawn(command, argv, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  return { child, output: () => output };
}

/** Resolves once the URL answers at all; throws with the process's output after 60 s. */
export async function waitUntilUp(url: string, proc: { output: () => string }): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not come up:\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Stops a process with SIGTERM and waits for it to exit. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** Each running process's parent and CPU time (user + system, in ticks), read from /proc. */
function processTable(): Map<number, { ppid: number; name: string; ticks: number }> {
  const table = new Map<number, { ppid: number; name: string; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The name is in parentheses and may hold spaces; the fields after it are fixed.
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      table.set(Number(entry), {
        ppid: Number(fields[1]),
        name,
        ticks: Number(fields[11]) + Number(fields[12]),
      });
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return table;
}

/** The pids of running processes with this name (as /proc/<pid>/stat gives it). */
export function pidsNamed(name: string): number[] {
  return [...processTable()].filter(([, p]) => p.name === name).map(([pid]) => pid);
}

/** CPU ticks so far of each process of a set, by pid. */
export type CpuSnapshot = Map<number, number>;

/**
 * CPU time so far of a process and its descendants (tsx runs the script in a child), or of the
 * listed processes (a database server's backends).
 */
export function cpuSnapshot(of: { pid: number } | { pids: readonly number[] }): CpuSnapshot {
  const table = processTable();
  const tree = new Set('pid' in of ? [of.pid] : of.pids);
  if ('pid' in of)
    // Parents have lower pids only until pids wrap; repeat until no new descendant is found.
    for (let grew = true; grew;) {
      grew = false;
      for (const [pid, p] of table)
        if (!tree.has(pid) && tree.has(p.ppid)) {
          tree.add(pid);
          grew = true;
        }
    }
  const snapshot: CpuSnapshot = new Map();
  for (const pid of tree) {
    const p = table.get(pid);
    if (p !== undefined) snapshot.set(pid, p.ticks);
  }
  return snapshot;
}

/**
 * PostgreSQL's processes that work for the database `q` is connected to: its backends, and the
 * WAL writer, background writer and checkpointer, which work for every database. Listed again
 * at the end of a measure, so that a connection opened meanwhile counts (see cpuSecondsSince).
 */
export async function postgresProcesses(q: Queryable): Promise<{ pids: number[] }> {
  const { rows } = await q.query<{ pid: number }>(
    `-- PostgreSQL's processes working for this database.
SELECT pid FROM pg_stat_activity WHERE datname = current_database()
  OR backend_type IN ('walwriter', 'background writer', 'checkpointer')`,
  );
  return { pids: rows.map((r) => r.pid) };
}

/**
 * CPU seconds the processes of `of` used since `before` was taken of the same selection (those
 * that ended since are left out). One not in `before` started since, and counts in full: a
 * database connection opened during the measurement. Measuring CPU beside wall-clock rates
 * gives a figure that the machine's other load barely moves.
 */
export function cpuSecondsSince(
  before: CpuSnapshot,
  of: { pid: number } | { pids: readonly number[] },
): number {
  let ticks = 0;
  for (const [pid, now] of cpuSnapshot(of)) ticks += now - (before.get(pid) ?? 0);
  return ticks / TICKS_PER_SECOND;
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 256 });

/**
 * One HTTP/1.1 request over a kept-alive connection, the answer read whole. The benchmarks'
 * load generator shares the machine's cores with what it measures: node:http costs it several
 * times less CPU per request than fetch (no WHATWG Request, Response or streams).
 */
export function httpCall(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: init.method ?? 'GET',
        agent: keepAlive,
        headers: {
          ...init.headers,
          ...(init.body === undefined
            ? {}
            : { 'content-length': String(Buffer.byteLength(init.body)) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/**
 * Turns PostgreSQL's autovacuum on for a benchmark when the server runs with it off (test
 * machines often do, this one included), and gives back what puts the server's setting back.
 * The README asks for autovacuum in production, and without it the figures are of another
 * database: the inbox and the search outbox are queues whose dead rows nothing reclaims, and
 * tables that grew by hundreds of thousands of rows are never analyzed, so the planner guesses
 * (it scanned every alert for a statement that probes one index entry per fingerprint). Its cost
 * is measured with the rest; a worker that ends between two CPU readings is not counted.
 */
export async function withAutovacuum(q: Queryable): Promise<{ restore: () => Promise<void> }> {
  const { rows } = await q.query<{ setting: string; sourcefile: string | null }>(
    "SELECT setting, sourcefile FROM pg_settings WHERE name = 'autovacuum'",
  );
  const row = rows[0];
  if (row === undefined || row.setting === 'on') return { restore: async () => {} };
  try {
    await q.query('ALTER SYSTEM SET autovacuum = on');
    await q.query('SELECT pg_reload_conf()');
  } catch (err) {
    console.log(`autovacuum is off and could not be turned on (${(err as Error).message})`);
    return { restore: async () => {} };
  }
  console.log('autovacuum: off on this server, on for this run (as in production)');
  // Off by postgresql.auto.conf: set it back there; off by postgresql.conf: drop the override.
  const byAlterSystem = row.sourcefile?.endsWith('postgresql.auto.conf') ?? false;
  return {
    restore: async () => {
      await q.query(`ALTER SYSTEM ${byAlterSystem ? 'SET autovacuum = off' : 'RESET autovacuum'}`);
      await q.query('SELECT pg_reload_conf()');
    },
  };
}
