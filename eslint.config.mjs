// ESLint flat config: eslint's and typescript-eslint's recommended rules (syntax-only, so `npm run lint` stays fast);
// formatting is Prettier's job (.prettierrc.json), unused code is tsc's (noUnusedLocals / noUnusedParameters).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'tasks/**/*.js',
      'test/fixtures/**',
      'dist/**',
      '.azure-in-a-box/**',
      'bench/.work/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // REST bodies are validated against the swagger at the boundary (and in the emulator), not typed field by field.
      '@typescript-eslint/no-explicit-any': 'off',
      // the log and ##vso escaping deliberately matches control characters
      'no-control-regex': 'off',
      // unused code is tsc's job (noUnusedLocals / noUnusedParameters), which also honours the `_` prefix
      '@typescript-eslint/no-unused-vars': 'off',
    },
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        fetch: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        performance: 'readonly',
        queueMicrotask: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
      },
    },
  },
  // CommonJS preloads (NODE_OPTIONS=--require) are require()-style by nature
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
