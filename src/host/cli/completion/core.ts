/**
 * The completion logic every shell shares, as POSIX sh functions generated from the model: given the
 * word being completed and the words before it, `__virtualghost_next` prints what to propose — line 1 an
 * action (words, vms, vmpaths, images, files, none), line 2 the candidate words for `words`. bash and zsh
 * source these functions (zsh in sh emulation); fish runs them through sh. The per-shell drivers only turn
 * that answer into their own completion calls.
 */
import { configKeyChoices, configKeyWords, type CompletionNode } from './model.js';

/** Single-quotes a word for sh. */
const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function specFunction(nodes: CompletionNode[]): string {
  const cases = nodes.map((n) =>
    [
      `    ${q(n.path)})`,
      `      subs=${q(n.subcommands.join(' '))}`,
      `      opts=${q(n.options.join(' '))}`,
      `      vopts=${q(n.valueOptions.join(' '))}`,
      `      args=${q(n.args.join(' '))} ;;`,
    ].join('\n'),
  );
  return [
    '__virtualghost_spec() {',
    '  case "$1" in',
    ...cases,
    `    *) subs=''; opts=''; vopts=''; args='' ;;`,
    '  esac',
    '}',
  ].join('\n');
}

function keyValuesFunction(): string {
  const cases = Object.entries(configKeyChoices()).map(
    ([key, values]) => `    ${q(key)}) echo ${q(values.join(' '))} ;;`,
  );
  return ['__virtualghost_keyvals() {', '  case "$1" in', ...cases, '  esac', '}'].join('\n');
}

function optionValuesFunction(nodes: CompletionNode[]): string {
  const cases = nodes.flatMap((n) =>
    Object.entries(n.optionChoices).map(
      ([opt, choices]) => `    ${q(`${n.path}|${opt}`)}) echo ${q(choices.join(' '))} ;;`,
    ),
  );
  return ['__virtualghost_optvals() {', '  case "$1|$2" in', ...cases, '  esac', '}'].join('\n');
}

// `@{` stands for `${` (a template literal cannot hold that literally, even raw).
const NEXT = String.raw`__virtualghost_next() {
  [ -n "@{ZSH_VERSION-}" ] && emulate -L sh
  # Local (bash, zsh and dash all have it): completion runs inside the user's shell, whose variables stay theirs.
  local cur cmdpath argn dashdash skip prev lastarg w vals kind n k subs opts vopts args
  cur=$1
  shift
  cmdpath=''
  argn=0
  dashdash=0
  skip=0
  prev=''
  lastarg=''
  __virtualghost_spec ''
  for w in "$@"; do
    prev=$w
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    if [ "$dashdash" = 1 ]; then argn=$((argn + 1)); continue; fi
    case $w in
      --) dashdash=1; continue ;;
      -*=*) continue ;;
      -?*) case " $vopts " in *" $w "*) skip=1 ;; esac; continue ;;
    esac
    if [ "$argn" = 0 ] && [ -n "$subs" ]; then
      case " $subs " in
        *" $w "*) cmdpath="@{cmdpath:+$cmdpath }$w"; __virtualghost_spec "$cmdpath"; continue ;;
      esac
    fi
    argn=$((argn + 1))
    lastarg=$w
  done
  if [ "$skip" = 1 ]; then
    vals=$(__virtualghost_optvals "$cmdpath" "$prev")
    if [ -n "$vals" ]; then printf 'words\n%s\n' "$vals"; else printf 'none\n'; fi
    return 0
  fi
  # After --: the guest command's own words, which only the guest knows.
  if [ "$dashdash" = 1 ]; then printf 'none\n'; return 0; fi
  case $cur in
    -*) printf 'words\n%s\n' "$opts"; return 0 ;;
  esac
  if [ "$argn" = 0 ] && [ -n "$subs" ]; then printf 'words\n%s\n' "$subs"; return 0; fi
  kind=none
  n=0
  for k in $args; do
    case $k in *...) kind=@{k%...}; break ;; esac
    if [ "$n" = "$argn" ]; then kind=$k; break; fi
    n=$((n + 1))
  done
  case $kind in
    vm) printf 'vms\n' ;;
    vmpath) case $cur in *:*) printf 'none\n' ;; *) printf 'vmpaths\n' ;; esac ;;
    image) printf 'images\n' ;;
    key) printf 'words\n%s\n' "$__virtualghost_keys" ;;
    keyvalue) printf 'words\n%s\n' "$(__virtualghost_keyvals "$lastarg")" ;;
    file) printf 'files\n' ;;
    choice:*) printf 'words\n%s\n' "$(echo "@{kind#choice:}" | tr ',' ' ')" ;;
    *) printf 'none\n' ;;
  esac
}`.replace(/@\{/g, '${');

export function coreFunctions(nodes: CompletionNode[]): string {
  return [
    `__virtualghost_keys=${q(configKeyWords().join(' '))}`,
    specFunction(nodes),
    optionValuesFunction(nodes),
    keyValuesFunction(),
    NEXT,
  ].join('\n\n');
}
