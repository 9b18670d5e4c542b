/** The OpenAI-shaped error of a response, for tests that check what a client is told. */
export async function errorOf(res: Response): Promise<{ message: string; type: string; code: string | null; param: string | null }> {
  return ((await res.json()) as { error: { message: string; type: string; code: string | null; param: string | null } }).error;
}
