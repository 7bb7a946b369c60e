export async function handler(event: unknown): Promise<unknown> {
  return event;
}
