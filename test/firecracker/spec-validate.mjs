/**
 * Request validation against Firecracker's official swagger (v1.16.1), used by fake-firecracker.mjs and by
 * the tests that re-check its request log. Plain Node on purpose: it follows the SPEC, not our code.
 *
 * Swagger 2.0 schema objects are a JSON-Schema draft-4 subset, which ajv validates directly; all
 * `#/definitions/...` references resolve inside the registered document. Two deliberate additions:
 * - `closed: true` adds `additionalProperties: false` to every object schema that lists properties and says
 *   nothing about extra ones. Firecracker deserializes its request bodies with serde `deny_unknown_fields`,
 *   so a misspelt field is a 400 there; the swagger just does not spell that out.
 * - custom `format`s: ajv-formats covers int32/int64; MmdsConfig.ipv4_address uses a regular expression as
 *   its format name, which we register as exactly that regex.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_SPEC_PATH = resolve(
  here,
  '../../../shared/reference/firecracker/src/firecracker/swagger/firecracker.yaml',
);

function closeObjects(node) {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node))
    out[k] =
      k === 'properties'
        ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, closeObjects(s)]))
        : closeObjects(v);
  if (out.type === 'object' && out.properties && !('additionalProperties' in out)) out.additionalProperties = false;
  return out;
}

function collectFormats(node, acc = new Set()) {
  if (Array.isArray(node)) node.forEach((n) => collectFormats(n, acc));
  else if (node && typeof node === 'object') {
    if (typeof node.format === 'string') acc.add(node.format);
    Object.values(node).forEach((n) => collectFormats(n, acc));
  }
  return acc;
}

/**
 * @param {{ specPath?: string, closed?: boolean }} [opts]
 * @returns {{ version: string, routes: Array<{ template: string, regex: RegExp, method: string, bodyRef?: string, bodyRequired: boolean, statuses: string[] }>, validateBody(method: string, path: string, body: unknown): { route?: object, params?: Record<string,string>, errors: string[] } }}
 */
export function loadSpec(opts = {}) {
  const swagger = parse(readFileSync(opts.specPath ?? DEFAULT_SPEC_PATH, 'utf8'));
  if (swagger.swagger !== '2.0') throw new Error('expected the Swagger 2.0 Firecracker spec');
  const definitions = opts.closed === false ? swagger.definitions : closeObjects(swagger.definitions);
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats(ajv);
  ajv.addKeyword('example');
  for (const f of collectFormats(definitions)) {
    if (!ajv.formats[f]) ajv.addFormat(f, new RegExp(`^(?:${f})$`));
  }
  ajv.addSchema({ $id: 'firecracker', definitions });

  const routes = [];
  for (const [template, item] of Object.entries(swagger.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const body = (op.parameters ?? []).find((p) => p.in === 'body');
      routes.push({
        template,
        regex: new RegExp(`^${template.replace(/\{[^}]+\}/g, '([^/]+)')}$`),
        paramNames: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]),
        method: method.toUpperCase(),
        operationId: op.operationId,
        bodyRef: body?.schema?.$ref?.replace('#/definitions/', ''),
        bodyInline: body && !body.schema?.$ref ? body.schema : undefined,
        bodyRequired: body?.required === true,
        statuses: Object.keys(op.responses ?? {}),
      });
    }
  }
  const validators = new Map();
  const validatorFor = (route) => {
    if (!validators.has(route)) {
      validators.set(
        route,
        route.bodyRef
          ? ajv.getSchema(`firecracker#/definitions/${route.bodyRef}`)
          : route.bodyInline
            ? ajv.compile(route.bodyInline)
            : undefined,
      );
    }
    return validators.get(route);
  };

  function match(method, path) {
    for (const route of routes) {
      const m = route.regex.exec(path);
      if (m && route.method === method)
        return { route, params: Object.fromEntries(route.paramNames.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
    }
    return undefined;
  }

  function validateBody(method, path, body) {
    const found = match(method, path);
    if (!found) return { errors: [`${method} ${path} is not an operation of the Firecracker API`] };
    const { route, params } = found;
    if (body === undefined)
      return { route, params, errors: route.bodyRequired ? [`${method} ${route.template} requires a body`] : [] };
    const validate = validatorFor(route);
    if (!validate) return { route, params, errors: [`${method} ${route.template} takes no body`] };
    const ok = validate(body);
    return {
      route,
      params,
      errors: ok
        ? []
        : validate.errors.map(
            (e) =>
              `${route.bodyRef ?? 'body'}${e.instancePath} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`,
          ),
    };
  }

  return { version: swagger.info.version, routes, match, validateBody };
}
