/** Initials on a colour picked from the name, the same on every device. */
/** Colours live in styles.css (`.avatar-0` ...): the CSP allows no inline styles. */
const COLOURS = 8;

export function initials(name: string): string {
  const words = name.split(/[\s._-]+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0]![0], words[1]![0]] : [...(words[0] ?? '?')].slice(0, 2);
  return letters.join('').toUpperCase();
}

function colourOf(name: string): number {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  return hash % COLOURS;
}

export function Avatar({ name }: { name: string }) {
  return (
    <span className={`avatar avatar-${colourOf(name)}`} aria-hidden="true">
      {initials(name)}
    </span>
  );
}
