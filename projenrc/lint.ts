import type { javascript } from 'projen';

/** The longest line either project accepts, comments and strings included (URLs are exempt). */
export const MAX_LINE_LENGTH = 150;

/** The files each project lints: TypeScript everywhere, plain ESM scripts where they are the tool. */
export const LINTED_EXTENSIONS = ['.ts', '.mjs'];

/**
 * One formatting for the library and the gateway runtime: projen's stylistic rules (2-space indent,
 * single quotes, semicolons, trailing commas), with the line-length rule tightened so comments and
 * strings count too, and `import type` wherever only types are imported.
 *
 * @param scripts the `.mjs` files outside every tsconfig (benchmarks, build scripts): typescript-eslint
 * lints them with its default project, which must allow JavaScript.
 */
export function applyHouseStyle(eslint: javascript.Eslint, scripts: string[]): void {
  eslint.addRules({
    // projen's default ignores comments, strings and template literals: 163 lines over 150 went unnoticed.
    '@stylistic/max-len': ['error', { code: MAX_LINE_LENGTH, ignoreUrls: true }],
    // `typeof import('./x.js')` types the modules the gateway loads lazily (only when a route needs them).
    '@typescript-eslint/consistent-type-imports': [
      'error', { prefer: 'type-imports', fixStyle: 'separate-type-imports', disallowTypeAnnotations: false },
    ],
    // Classes read fields, constructor, methods; static factories and constants stay beside what they build
    // (projen's order puts every static first), and interfaces keep the order their documentation reads best in.
    '@typescript-eslint/member-ordering': ['error', { default: 'never', classes: ['instance-field', 'constructor', 'instance-method'] }],
    // The SDK's `./*` export maps types to `*.d.ts` after the `.js` suffix, which TypeScript resolves and the import
    // resolver does not; tsc already fails on an unresolved import, so nothing is lost.
    'import/no-unresolved': ['error', { ignore: ['^@modelcontextprotocol/sdk/'] }],
  });
  eslint.allowDefaultProjectFiles(...scripts);
  // typescript-eslint refuses more than 8 files in its default project; the runtime's test fixtures alone pass that.
  eslint.project.tryFindObjectFile('.eslintrc.json')?.addOverride(
    'parserOptions.projectService.maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING', 32,
  );
}
