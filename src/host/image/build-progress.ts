/** One step of making the guest image ready (a build, or unpacking the executable's image), for a progress line. */
export interface BuildProgress {
  step: number;
  steps: number;
  title: string;
  detail?: string;
  bytes?: number;
  /** What is being done: a build (the default) or unpacking the executable's image. */
  action?: 'build' | 'extract';
  /** How far the step is, 0–1, when that is known: shown as a bar. */
  fraction?: number;
}
