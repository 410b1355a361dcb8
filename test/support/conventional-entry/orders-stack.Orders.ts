export async function handler() {
  return 'found by convention';
}
