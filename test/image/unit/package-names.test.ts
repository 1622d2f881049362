/** Extra packages: which names are Debian package names, the close matches offered for a typo, and the recipe's form. */
import { describe, expect, it } from 'vitest';
import { closePackageNames, invalidPackageNames } from '../../../src/host/image/package-names.js';
import { canonicalExtraPackages, makeRecipe, recipeId } from '../../../src/host/image/recipe.js';
import { validateValue } from '../../../src/host/config/load.js';

describe('Debian package names (Policy 5.6.1)', () => {
  it('accepts real names and refuses upper case, one character, a leading symbol, and apt/mmdebstrap syntax', () => {
    expect(
      invalidPackageNames([
        'jq',
        'python3',
        'g++',
        'libstdc++6',
        'node-ws',
        'r-base-core',
        '0ad',
        'xz-utils',
        'gir1.2-glib-2.0',
      ]),
    ).toEqual([]);
    const bad = [
      'Python3',
      'j',
      '-oAPT::Get=1',
      '+x',
      '.hidden',
      'jq,git',
      'jq=1.6',
      'jq/bookworm',
      'j q',
      'jq\n',
      'ä',
      '',
    ];
    expect(invalidPackageNames(bad)).toEqual(bad);
  });

  it('the config key refuses a bad name with the key, the name and the rule', () => {
    expect(() => validateValue('image.packages', ['jq', 'Pyton3'], 'flag --package')).toThrow(
      /flag --package: `image.packages` must be .*"Pyton3" is not a Debian package name/,
    );
    expect(validateValue('image.packages', ['jq', 'git'], 'x')).toEqual(['jq', 'git']);
  });
});

describe('close matches', () => {
  const known = ['python3', 'python3-pip', 'cython3', 'ipython3', 'python2', 'jq', 'jp', 'git', 'gif', 'curl', 'bash'];
  it('offers the nearest names first, the one that starts the same way ahead of equally near ones', () => {
    expect(closePackageNames('pyton3', known)).toEqual(['python3', 'python2', 'cython3']); // 1, then 2 with "p" first, then 2
    expect(closePackageNames('pyton3', known, 5)).toEqual(['python3', 'python2', 'cython3', 'ipython3']);
    expect(closePackageNames('gti', known)[0]).toBe('git');
    expect(closePackageNames('curll', known)).toEqual(['curl']);
  });
  it('offers nothing when nothing is near', () => {
    expect(closePackageNames('libreoffice-writer', known)).toEqual([]);
  });
});

describe('the recipe', () => {
  const kernel = { name: 'linux-image-6.1.0-99-amd64', version: '6.1.999-1' };
  it('extra packages are sorted, de-duplicated, and those in the image anyway dropped', () => {
    expect(canonicalExtraPackages(['jq', 'git', 'jq', 'bash', 'curl'])).toEqual(['curl', 'git', 'jq']);
  });
  it('without extras the recipe (so the default image id) is what it was before extra packages existed', () => {
    const plain = makeRecipe(kernel);
    expect(Object.keys(plain)).toEqual([
      'builder',
      'suite',
      'kernel',
      'modules',
      'packages',
      'rootfsSizeMiB',
      'payload',
    ]);
    expect(recipeId(makeRecipe(kernel, canonicalExtraPackages(['bash'])))).toBe(recipeId(plain));
  });
  it('each package set is its own id, whatever the order it was given in', () => {
    const id = (names: string[]): string => recipeId(makeRecipe(kernel, canonicalExtraPackages(names)));
    expect(id(['jq'])).not.toBe(id([]));
    expect(id(['jq', 'git'])).toBe(id(['git', 'jq', 'git']));
    expect(id(['jq', 'git'])).not.toBe(id(['jq']));
  });
});
