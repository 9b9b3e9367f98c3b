// Grouping by key without copying the group on every addition (a base layer can be linked from thousands of
// repositories).

export function addTo<K, V>(groups: Map<K, V[]>, key: K, value: V): void {
  const group = groups.get(key);
  if (group) group.push(value);
  else groups.set(key, [value]);
}
