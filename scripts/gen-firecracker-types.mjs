#!/usr/bin/env node
/**
 * Generates src/host/vm/firecracker/api-types.generated.ts from Firecracker's official swagger spec.
 *
 *   node scripts/gen-firecracker-types.mjs [path/to/firecracker.yaml [output.ts]]
 *
 * Default input: ../shared/reference/firecracker/src/firecracker/swagger/firecracker.yaml (v1.16.1).
 *
 * Why a conversion step: Firecracker publishes Swagger 2.0, while openapi-typescript 7 (the maintained
 * generator we use) only reads OpenAPI 3.x. The conversion below is deliberately small and mechanical so
 * that it stays faithful: `definitions` move verbatim to `components.schemas` (only `$ref` targets are
 * rewritten), `in: body` parameters become `requestBody`, response `schema`s move under
 * `content['application/json']`, and simple path parameters get a `schema`. Nothing is added or dropped.
 * The same converted document is what test/firecracker validates requests against (via ajv), so the types
 * and the validator can never drift apart.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { parse } from 'yaml';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const output = resolve(process.argv[3] ?? resolve(repo, 'src/host/vm/firecracker/api-types.generated.ts'));
const input = resolve(
  process.argv[2] ?? resolve(repo, '../shared/reference/firecracker/src/firecracker/swagger/firecracker.yaml'),
);

/** Rewrites every `$ref: '#/definitions/X'` to `#/components/schemas/X`, copying everything else as is. */
function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] =
      key === '$ref' && typeof value === 'string'
        ? value.replace(/^#\/definitions\//, '#/components/schemas/')
        : rewriteRefs(value);
  }
  return out;
}

export function swagger2ToOpenApi3(swagger) {
  if (swagger.swagger !== '2.0') throw new Error(`expected a Swagger 2.0 document, got swagger=${swagger.swagger}`);
  const mediaTypes = swagger.consumes ?? ['application/json'];
  const paths = {};
  for (const [path, item] of Object.entries(swagger.paths ?? {})) {
    paths[path] = {};
    for (const [method, op] of Object.entries(item)) {
      const { parameters = [], responses = {}, consumes, produces, ...rest } = op;
      const converted = { ...rest };
      const body = parameters.find((p) => p.in === 'body');
      const others = parameters.filter((p) => p.in !== 'body');
      if (others.length > 0) {
        converted.parameters = others.map(({ type, format, ...p }) => ({
          ...p,
          schema: { type, ...(format ? { format } : {}) },
        }));
      }
      if (body) {
        converted.requestBody = {
          ...(body.description ? { description: body.description } : {}),
          required: body.required === true,
          content: Object.fromEntries((consumes ?? mediaTypes).map((m) => [m, { schema: rewriteRefs(body.schema) }])),
        };
      }
      converted.responses = Object.fromEntries(
        Object.entries(responses).map(([status, r]) => {
          const { schema, ...resp } = r;
          const media = produces ?? swagger.produces ?? ['application/json'];
          return [
            status,
            schema
              ? { ...resp, content: Object.fromEntries(media.map((m) => [m, { schema: rewriteRefs(schema) }])) }
              : resp,
          ];
        }),
      );
      paths[path][method] = converted;
    }
  }
  return {
    openapi: '3.0.3',
    info: swagger.info,
    servers: [{ url: `http://${swagger.host ?? 'localhost'}${swagger.basePath ?? '/'}` }],
    paths,
    components: { schemas: rewriteRefs(swagger.definitions ?? {}) },
  };
}

async function main() {
  const text = readFileSync(input, 'utf8');
  const swagger = parse(text);
  const doc = swagger2ToOpenApi3(swagger);
  // defaultNonNullable:false — a field with a `default` is still optional in a request body we send.
  const ast = await openapiTS(doc, { alphabetize: false, exportType: false, defaultNonNullable: false });
  const sha = createHash('sha256').update(text).digest('hex');
  const header = [
    '/* eslint-disable */',
    '// GENERATED FILE — do not edit by hand.',
    `// Source: Firecracker API swagger v${swagger.info?.version} (sha256 ${sha})`,
    `//         ${relative(repo, input)}`,
    '// Regenerate: node scripts/gen-firecracker-types.mjs [path/to/firecracker.yaml]',
    '// Generator: openapi-typescript 7 over a faithful Swagger 2.0 -> OpenAPI 3.0 conversion (see the script).',
    '',
  ].join('\n');
  writeFileSync(output, `${header}\n${astToString(ast)}`);
  console.log(`wrote ${relative(process.cwd(), output)} from ${input}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
