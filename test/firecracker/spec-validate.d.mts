export const DEFAULT_SPEC_PATH: string;
export interface SpecRoute {
  template: string;
  method: string;
  operationId: string;
  bodyRef?: string;
  bodyRequired: boolean;
  statuses: string[];
}
export interface Spec {
  version: string;
  routes: SpecRoute[];
  match(method: string, path: string): { route: SpecRoute; params: Record<string, string> } | undefined;
  validateBody(
    method: string,
    path: string,
    body: unknown,
  ): { route?: SpecRoute; params?: Record<string, string>; errors: string[] };
}
export function loadSpec(opts?: { specPath?: string; closed?: boolean }): Spec;
