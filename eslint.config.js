// ESLint for this code base: typescript-eslint's recommended rules, tuned where Nest's own signatures need it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'dist-dev/', 'dist-sample/', 'coverage/', 'bench/peers/', 'node_modules/', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Nest's handler and provider signatures are typed with Function and any
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // empty catch blocks carry a comment saying why the error does not matter
      'no-empty': ['error', { allowEmptyCatch: false }],
      eqeqeq: ['error', 'always'],
      // a timer handle declared before the closure that clears it, assigned once after
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // misreads values used only as parameter decorators (@Payload()); the compiler's noUnusedLocals covers the rest
      'no-useless-assignment': 'off',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
      },
    },
  },
);
