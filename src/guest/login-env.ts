/** The environment of every process the agent starts for the user: a root login shell. */
export function loginEnv(extra: Record<string, string>, term?: string): Record<string, string> {
  return {
    HOME: '/root',
    USER: 'root',
    LOGNAME: 'root',
    SHELL: '/bin/bash',
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
    ...extra,
    ...(term !== undefined ? { TERM: term } : {}),
  };
}
