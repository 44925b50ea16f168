// graphql-codegen: types for every operation of src/operations/ from the repository's own
// schema.graphql (the file `leadq schema` prints and a Rust test keeps in step with the server).
// Codegen validates each operation against the schema, and tsc then checks every use of the
// generated types: a renamed or removed field fails one or the other.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  // SPA_SCHEMA: another schema file to check the operations against (a scratch copy in an
  // experiment); by default the repository's.
  schema: process.env.SPA_SCHEMA || '../../schema.graphql',
  documents: ['src/operations/*.graphql'],
  generates: {
    'src/generated/graphql.ts': {
      plugins: ['typescript', 'typescript-operations', 'typed-document-node'],
      config: {
        // Only what the operations use: their results, variables, inputs and enums.
        onlyOperationTypes: true,
        enumsAsTypes: true,
        useTypeImports: true,
        strictScalars: true,
        scalars: { DateTime: 'string', Decimal: 'string', JSON: 'unknown' },
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        nonOptionalTypename: false,
      },
    },
  },
  hooks: {},
};

export default config;
