import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { isElasticsearchUp, startElasticsearch } from '../../scripts/elasticsearch.ts';
import { createPool, ensureDatabase } from '../../services/store/db.ts';
import { migrate } from '../../services/store/migrate.ts';
import { adminUrl, databaseUrl, newTemplateName } from './db.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    elasticsearchUrl: string;
    templateDb: string;
  }
}

/**
 * Once per test run: a real Elasticsearch (ELASTICSEARCH_URL when it answers, else a node started
 * here from Maven Central's cluster runner) and a migrated template database that each test file
 * clones.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const templateDb = newTemplateName();
  const template = databaseUrl(templateDb);
  await ensureDatabase(template);
  const pool = createPool(template, 1);
  await migrate(pool);
  await pool.end();
  project.provide('templateDb', templateDb);
  const dropTemplate = async () => {
    const admin = createPool(adminUrl(), 1);
    await admin.query(`DROP DATABASE IF EXISTS ${templateDb} WITH (FORCE)`);
    await admin.end();
  };

  const given = process.env.ELASTICSEARCH_URL;
  let stop = dropTemplate;
  if (given && (await isElasticsearchUp(given))) {
    project.provide('elasticsearchUrl', given);
  } else {
    const dataDir = mkdtempSync(join(tmpdir(), 'tocsin-es-'));
    const port = 19200 + Math.floor(Math.random() * 500);
    const node = await startElasticsearch({ port, dataDir });
    project.provide('elasticsearchUrl', node.url);
    stop = async () => {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
      await dropTemplate();
    };
  }
  return stop;
}
