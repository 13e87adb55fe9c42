import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let tocsin: TestTocsin;
beforeAll(async () => {
  tocsin = await startTestTocsin({ roles: ['services'] });
});
afterAll(() => tocsin.destroy());

type Problem = {
  status: number;
  pointer: string;
  detail: string;
  errors: { pointer: string; detail: string }[];
};
type Ci = Record<string, unknown> & { id: string; name: string };

const postCsv = (csv: string, query = '', contentType = 'text/csv; charset=utf-8') =>
  tocsin.request(`/api/v1/cmdb/import${query}`, {
    method: 'POST',
    body: csv,
    headers: { 'Content-Type': contentType },
  });
const problemOf = async (res: Response): Promise<Problem> => {
  expect(res.status, 'a 400').toBe(400);
  expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  return (await res.json()) as Problem;
};
const cisNamed = async (...names: string[]): Promise<Ci[]> => {
  const res = await tocsin.request(`/api/v1/cis?filter=name=${names.join('|')}&sort=name`);
  return ((await res.json()) as { items: Ci[] }).items;
};

const cisCsv = [
  'name,class,Support Group,criticality,environment,description,attr.rack,attr.power feed',
  'web-01,server,web-ops,high,production,"Front web server, rack A",r12,A',
  'web-02,server,web-ops,2,production,,r12,',
  'lb-web,load_balancer,net-ops,critical,production,"VIP 10.0.0.1',
  'balances web-01 and web-02",,',
  '',
  'shop,business_service,,1,,,,',
].join('\r\n');

const relationshipsCsv = `source,target,type
shop,lb-web,depends_on
lb-web,web-01,uses
lb-web,web-02,uses
`;

describe('CSV import of CIs and relationships', () => {
  it('upserts CIs from a CSV file, with attribute columns, idempotently', async () => {
    const first = await postCsv(cisCsv);
    expect(first.status, await first.clone().text()).toBe(200);
    expect(await first.json()).toEqual({
      cis: { created: 4, updated: 0, unchanged: 0 },
      relationships: { created: 0, unchanged: 0 },
    });
    const [lb, shop, web1, web2] = await cisNamed('web-01', 'web-02', 'lb-web', 'shop');
    expect(web1).toMatchObject({
      name: 'web-01',
      class: 'server',
      supportGroup: 'web-ops',
      criticality: 2,
      environment: 'production',
      description: 'Front web server, rack A',
      attributes: { rack: 'r12', 'power feed': 'A' },
    });
    expect(web2).toMatchObject({ description: null, attributes: { rack: 'r12' } });
    expect(lb).toMatchObject({
      class: 'load_balancer',
      criticality: 1,
      description: 'VIP 10.0.0.1\r\nbalances web-01 and web-02',
      attributes: {},
    });
    expect(shop).toMatchObject({
      class: 'business_service',
      supportGroup: null,
      environment: null,
    });

    const again = await postCsv(cisCsv);
    expect(await again.json()).toMatchObject({ cis: { created: 0, updated: 0, unchanged: 4 } });

    // Columns a file leaves out keep their stored values; an attribute column replaces them.
    const moved = await postCsv('name,class,attr.rack\nweb-01,server,r14\n');
    expect(await moved.json()).toMatchObject({ cis: { updated: 1, unchanged: 0 } });
    const [web1After] = await cisNamed('web-01');
    expect(web1After).toMatchObject({
      supportGroup: 'web-ops',
      criticality: 2,
      attributes: { rack: 'r14' },
    });
    const history = (await (await tocsin.request(`/api/v1/cis/${web1!.id}/history`)).json()) as {
      items: { actor: string; action: string; field: string }[];
    };
    expect(history.items.map((e) => [e.action, e.field])).toEqual([
      ['import', '*'],
      ['import', 'attributes'],
    ]);
  });

  it('adds relationships from a CSV file, told by its header or by kind', async () => {
    const first = await postCsv(relationshipsCsv);
    expect(first.status, await first.clone().text()).toBe(200);
    expect(await first.json()).toMatchObject({ relationships: { created: 3, unchanged: 0 } });
    const again = await postCsv(relationshipsCsv, '?kind=relationships');
    expect(await again.json()).toMatchObject({ relationships: { created: 0, unchanged: 3 } });

    const [shop] = await cisNamed('shop');
    const impact = (await (
      await tocsin.request(`/api/v1/cis/${shop!.id}/impact?direction=upstream`)
    ).json()) as { nodes: { name: string }[] };
    expect(impact.nodes.map((n) => n.name).sort()).toEqual(['lb-web', 'shop', 'web-01', 'web-02']);

    const wrongKind = await postCsv(relationshipsCsv, '?kind=cis');
    expect((await problemOf(wrongKind)).errors.map((e) => e.pointer)).toEqual([
      '/rows/1/source',
      '/rows/1/target',
      '/rows/1/type',
      '/rows/1',
      '/rows/1',
    ]);
  });

  it('names the row and column of every bad cell, and writes nothing', async () => {
    const res = await postCsv(
      [
        'name,class,criticality,environment,lifecycle_status',
        'ok-1,server,1,production,in_service',
        'ok-2,server,urgent,production,',
        ',server,2,,',
        'ok-3,server,3,prod,retired',
        'ok-1,host,,,',
      ].join('\n'),
    );
    const problem = await problemOf(res);
    expect(problem.errors).toEqual([
      {
        pointer: '/rows/3/criticality',
        detail: expect.stringMatching(
          /^row 3, column criticality: "urgent" is not a criticality/,
        ) as string,
      },
      { pointer: '/rows/4/name', detail: 'row 4, column name: a value is needed' },
      {
        pointer: '/rows/5/environment',
        detail: expect.stringMatching(/^row 5, column environment: /) as string,
      },
      { pointer: '/rows/6/name', detail: 'row 6, column name: duplicate CI name "ok-1"' },
    ]);
    expect(problem.pointer).toBe('/rows/3/criticality');
    expect(await cisNamed('ok-1', 'ok-2', 'ok-3')).toEqual([]);
  });

  it('names the row of an unknown class or CI, counting lines as a spreadsheet does', async () => {
    // Row 2 spans two lines and row 4 is blank: the bad class is on line (row) 5.
    const unknownClass = await postCsv(
      'name,class,description\nfine,server,"two\nlines"\n\nbig-iron,mainframe,\n',
    );
    expect((await problemOf(unknownClass)).errors).toEqual([
      {
        pointer: '/rows/5/class',
        detail: expect.stringMatching(/^row 5, column class: unknown class "mainframe"/) as string,
      },
    ]);
    expect(await cisNamed('fine')).toEqual([]);

    const unknownCi = await postCsv(
      'Source,Target,Type\nshop,ghost,depends_on\nweb-01,web-01,uses\n',
    );
    expect((await problemOf(unknownCi)).errors).toEqual([
      { pointer: '/rows/3/Target', detail: 'row 3, column Target: a CI cannot relate to itself' },
    ]);
    const ghost = await postCsv('source,target,type\nshop,web-01,loves\nshop,ghost,uses\n');
    expect((await problemOf(ghost)).errors).toEqual([
      {
        pointer: '/rows/2/type',
        detail: expect.stringMatching(/^row 2, column type: /) as string,
      },
    ]);
    const ghostOnly = await postCsv('source,target,type\nshop,web-01,uses\nshop,ghost,uses\n');
    expect((await problemOf(ghostOnly)).errors).toEqual([
      { pointer: '/rows/3/target', detail: 'row 3, column target: unknown CI "ghost"' },
    ]);
  });

  it('rejects a bad header, a file that is not CSV, and other media types', async () => {
    const unknownColumn = await problemOf(await postCsv('name,class,colour\nx,server,red\n'));
    expect(unknownColumn.errors).toEqual([
      {
        pointer: '/rows/1/colour',
        detail: expect.stringMatching(/^row 1, column colour: unknown column/) as string,
      },
    ]);
    const noClass = await problemOf(await postCsv('name,owner\nx,alice\n'));
    expect(noClass.errors).toEqual([
      { pointer: '/rows/1', detail: 'row 1: a "class" column is needed' },
    ]);
    const twice = await problemOf(await postCsv('name,class,support_group,Support Group\n'));
    expect(twice.errors[0]).toMatchObject({ pointer: '/rows/1/Support Group' });
    const neither = await problemOf(await postCsv('foo,bar\n1,2\n'));
    expect(neither.errors[0]).toMatchObject({ pointer: '/rows/1' });
    expect((await problemOf(await postCsv(''))).errors[0]).toMatchObject({ pointer: '/rows/1' });

    const ragged = await problemOf(await postCsv('name,class\na,server\nb,server,extra\n'));
    expect(ragged.errors[0]).toMatchObject({ pointer: '/rows/3' });
    expect(ragged.errors[0]!.detail).toMatch(/^row 3: /);
    const unclosed = await problemOf(await postCsv('name,class\na,"server\n'));
    expect(unclosed.errors[0]!.detail).toMatch(/^row \d+: Quote Not Closed/);

    const plain = await postCsv('name,class\na,server\n', '', 'text/plain');
    expect(plain.status).toBe(415);
    const badKind = await problemOf(await postCsv('name,class\n', '?kind=assets'));
    expect(badKind.pointer).toBe('/query/kind');
    const kindWithJson = await problemOf(await postCsv('{}', '?kind=cis', 'application/json'));
    expect(kindWithJson.pointer).toBe('/query/kind');
  });
});
