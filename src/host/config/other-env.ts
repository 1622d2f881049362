/** Our environment variables that are not settings (README: Environment variables lists them). */

/** `1`: print boot phases and start-up steps with timestamps (as --verbose). */
export const DEBUG_ENV = 'VIRTUALGHOST_DEBUG';
/** `0`: run the CLI as tsc's ES modules instead of its bundle (cli/bundle-loader.ts). */
export const CLI_BUNDLE_ENV = 'VIRTUALGHOST_CLI_BUNDLE';

export const OTHER_ENV_VARS: readonly string[] = [DEBUG_ENV, CLI_BUNDLE_ENV];
