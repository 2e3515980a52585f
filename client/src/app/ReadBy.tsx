/**
 * "read by N" under an own message in a group, with who on demand (a
 * details element: keyboard and screen reader reachable, no script).
 */
export function ReadBy({ users, others }: { users: string[]; others: number }) {
  if (users.length === 0) return null;
  return (
    <details className="read-by" data-testid="read-by">
      <summary aria-label={`read by ${users.length} of ${others}`}>read by {users.length}</summary>
      <ul aria-label="Read by">
        {users.map((user) => (
          <li key={user}>{user}</li>
        ))}
      </ul>
    </details>
  );
}
