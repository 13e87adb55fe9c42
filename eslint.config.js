// Lint: type-aware TypeScript rules plus the import boundaries of the house style.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const onlyStore = (pkg) => ({
  name: pkg,
  message: `Only services/store talks to ${pkg}.`,
});

/** Import patterns a folder may not use, with the reason the lint error shows. */
const boundaries = {
  'ingest/**/*.ts': [
    {
      group: ['**/services/**', '../services/**', '../../services/**'],
      message:
        'ingest receives the store as injected callbacks; it imports only correlator/jobs.ts and correlator/alert.ts.',
    },
    {
      regex: '^\\.\\./(\\.\\./)?correlator/(?!jobs\\.ts$|alert\\.ts$)',
      message: 'ingest imports only the contracts correlator/jobs.ts and correlator/alert.ts.',
    },
    { group: ['../web/**', '../../web/**'], message: 'ingest does not import the console.' },
  ],
  'correlator/**/*.ts': [
    {
      group: ['**/services/api/**', '**/services/app.ts'],
      message: 'correlator uses services/store, never the HTTP API.',
    },
    {
      group: ['../ingest/**', '../web/**'],
      message: 'correlator does not import ingest or the console.',
    },
  ],
  'services/**/*.ts': [
    {
      group: ['../ingest/**', '../../ingest/**', '../web/**', '../../web/**'],
      message: 'services does not import ingest or the console.',
    },
    {
      regex: '^(\\.\\./)+correlator/(?!jobs\\.ts$|alert\\.ts$|explanation-refs\\.ts$)',
      message:
        'services imports only the correlator contracts (jobs.ts, alert.ts, explanation-refs.ts).',
    },
  ],
  'web/**/*.ts': [
    {
      regex: '^\\.\\./',
      allowTypeImports: true,
      message: 'The console talks to the server over HTTP only (import type is fine).',
    },
  ],
};

const restrictedPackages = [onlyStore('pg'), onlyStore('@elastic/elasticsearch')];
const natural = {
  name: 'natural',
  message: 'Only correlator/similarity.ts imports natural (slow to load, noisy).',
};
// Its deep files too (natural/lib/...), which similarity.ts loads one by one.
const naturalFiles = { group: ['natural/*'], message: natural.message };

export default tseslint.config(
  { ignores: ['node_modules/', '.cache/', 'bench/results/', 'coverage/', 'dist/'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'import-x/no-cycle': 'error',
      'no-restricted-imports': [
        'error',
        { paths: [...restrictedPackages, natural], patterns: [naturalFiles] },
      ],
    },
  },
  // Composition roots wire every part together; the boundaries apply to everything they wire.
  ...Object.entries(boundaries).map(([files, patterns]) => ({
    files: [files],
    ignores: ['*/main.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [...restrictedPackages, natural], patterns: [...patterns, naturalFiles] },
      ],
    },
  })),
  {
    files: ['services/store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [natural], patterns: [...boundaries['services/**/*.ts'], naturalFiles] },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [natural], patterns: [naturalFiles] }] },
  },
  {
    files: ['correlator/similarity.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: restrictedPackages }] },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
