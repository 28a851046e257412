/**
 * Jest runs the TypeScript tests as ES modules through ts-jest (node --experimental-vm-modules,
 * see runner/src/test-all.ts). Relative imports are written with `.js`, as NodeNext requires;
 * the mapper points them back at the .ts sources.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/runner', '<rootDir>/ts-server', '<rootDir>/ts-client', '<rootDir>/test'],
  testMatch: ['**/test/**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }] },
  testTimeout: 30_000,
};
