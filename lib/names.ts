// Construct ids from the project's kebab-case names: retry-sweep → RetrySweep.
export const pascalCase = (name: string): string =>
  name.replace(/(^|-)([a-z0-9])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());
