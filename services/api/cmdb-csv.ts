import { CsvError, parse } from 'csv-parse/sync';
import { invalid, type FieldError } from '../../runtime/problem.ts';
import { unstorable } from './validate.ts';

/** The two kinds of CMDB CSV files: one CI per row, or one relationship per row. */
export const csvKinds = ['cis', 'relationships'] as const;
/** One kind of CMDB CSV file. */
export type CsvKind = (typeof csvKinds)[number];

/**
 * A CMDB CSV file read into the JSON import's shape, with where each item came from so that a
 * validation error can name its row and column. Rows are numbered as in a spreadsheet: the
 * header is row 1; a record spanning several lines is numbered by its first.
 */
export type CmdbCsv = {
  kind: CsvKind;
  body: { cis: Record<string, unknown>[] } | { relationships: Record<string, unknown>[] };
  /** The row of each item, by its index in the body's list. */
  rows: number[];
  /** The header cell, as written, of each field; attributes under `attributes`. */
  columns: Record<string, string>;
};

// Header cells name a field in any case, with or without _ - or spaces ("Support group").
const ciColumns: Record<string, string> = {
  name: 'name',
  class: 'class',
  description: 'description',
  lifecyclestatus: 'lifecycleStatus',
  operationalstatus: 'operationalStatus',
  environment: 'environment',
  criticality: 'criticality',
  supportgroup: 'supportGroup',
  owner: 'owner',
};
const relationshipColumns: Record<string, string> = {
  source: 'source',
  target: 'target',
  type: 'type',
};
const required: Record<CsvKind, string[]> = {
  cis: ['name', 'class'],
  relationships: ['source', 'target', 'type'],
};
const ATTRIBUTE = /^attr\.(.+)$/i;

const normalize = (header: string) => header.toLowerCase().replace(/[\s_-]/g, '');

/** The FieldError of a cell: a pointer `/rows/{row}/{column}` and a detail naming both. */
export function cellError(row: number, column: string | null, detail: string): FieldError {
  return column === null
    ? { pointer: `/rows/${row}`, detail: `row ${row}: ${detail}` }
    : {
        pointer: `/rows/${row}/${column.replaceAll('~', '~0').replaceAll('/', '~1')}`,
        detail: `row ${row}, column ${column}: ${detail}`,
      };
}

type Parsed = { record: string[]; info: { lines: number; empty_lines: number } };

function readRecords(text: string): { cells: string[]; row: number }[] {
  let parsed: Parsed[];
  try {
    parsed = parse(text, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as Parsed[];
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    const line = typeof err.lines === 'number' ? err.lines : 1;
    throw invalid([cellError(line, null, err.message.replace(/ on line \d+$/, ''))]);
  }
  let end = 0;
  let empty = 0;
  return parsed.map(({ record, info }) => {
    // The record starts after the previous one and after the empty lines skipped since.
    const row = end + 1 + (info.empty_lines - empty);
    end = info.lines;
    empty = info.empty_lines;
    return { cells: record, row };
  });
}

/**
 * Reads a CMDB CSV file: a header row, then one CI (`name`, `class`, optional fields and
 * `attr.<key>` columns for attributes) or one relationship (`source`, `target`, `type`) per row.
 * The kind is `kind` when given, otherwise told by the header. An empty cell leaves its field
 * out (a stored CI keeps its value); attribute columns, when present, replace the attributes with
 * the row's non-empty ones. A file that is not CSV, or an unknown, repeated or missing column, is
 * a 400 naming the row and column.
 */
export function readCmdbCsv(text: string, kind?: CsvKind): CmdbCsv {
  const [header, ...records] = readRecords(text);
  if (!header) throw invalid([cellError(1, null, 'the file is empty; it needs a header row')]);
  // PostgreSQL stores no U+0000: named here by row and column, not by the database for the file.
  const unstorableCells = [header, ...records].flatMap(({ cells, row }) =>
    cells.flatMap((cell, i) => {
      const detail = unstorable(cell);
      const column = row === header.row ? `#${i + 1}` : (header.cells[i] ?? `#${i + 1}`);
      return detail ? [cellError(row, column, detail)] : [];
    }),
  );
  if (unstorableCells.length > 0) throw invalid(unstorableCells.slice(0, 50));
  const normalized = header.cells.map(normalize);
  const detected =
    kind ??
    (normalized.includes('source') && normalized.includes('target')
      ? 'relationships'
      : normalized.includes('name')
        ? 'cis'
        : null);
  if (!detected)
    throw invalid([
      cellError(1, null, 'the header names neither CIs (name, class…) nor relationships (source…)'),
    ]);
  const known = detected === 'cis' ? ciColumns : relationshipColumns;
  const errors: FieldError[] = [];
  // Each cell index: a field, an attribute key, or nothing (an error was recorded).
  const fieldAt: ({ field: string } | { attribute: string } | null)[] = [];
  const columns: Record<string, string> = {};
  const seen = new Map<string, string>();
  header.cells.forEach((cell, i) => {
    const attribute = detected === 'cis' ? ATTRIBUTE.exec(cell)?.[1]?.trim() : undefined;
    const field = attribute ? `attr.${attribute}` : known[normalize(cell)];
    if (!field) {
      errors.push(
        cellError(1, cell || `#${i + 1}`, `unknown column; use ${Object.values(known).join(', ')}`),
      );
      fieldAt.push(null);
    } else if (seen.has(field)) {
      errors.push(cellError(1, cell, `the same column as "${seen.get(field)}"`));
      fieldAt.push(null);
    } else {
      seen.set(field, cell);
      fieldAt.push(attribute ? { attribute } : { field });
      if (attribute) columns.attributes ??= cell;
      else columns[field] = cell;
    }
  });
  for (const field of required[detected])
    if (!seen.has(field)) errors.push(cellError(1, null, `a "${field}" column is needed`));
  if (errors.length > 0) throw invalid(errors.slice(0, 50));

  const hasAttributes = fieldAt.some((f) => f !== null && 'attribute' in f);
  const items = records.map(({ cells }) => {
    const item: Record<string, unknown> = {};
    const attributes: Record<string, string> = {};
    cells.forEach((value, i) => {
      const at = fieldAt[i];
      if (!at || value === '') return;
      if ('attribute' in at) attributes[at.attribute] = value;
      else
        item[at.field] = at.field === 'criticality' && /^\d+$/.test(value) ? Number(value) : value;
    });
    if (hasAttributes) item.attributes = attributes;
    return item;
  });
  return {
    kind: detected,
    body: detected === 'cis' ? { cis: items } : { relationships: items },
    rows: records.map((r) => r.row),
    columns,
  };
}
