// Whether a server in this process keeps answering while it is busy: a cheap request is sent again and again, one
// after another, until the busy work settles. A blocked event loop answers a handful; a free one hundreds. Counted,
// not timed, so a slow machine changes the figures but not which side of the threshold they fall.

/** How many times `cheap` was answered, one call after another, before `busy` settled. */
export async function answeredWhile(busy: Promise<unknown>, cheap: () => Promise<unknown>): Promise<number> {
  let settled = false;
  const watched = busy.then(
    () => (settled = true),
    () => (settled = true),
  );
  let answered = 0;
  while (!settled) {
    await cheap();
    answered++;
  }
  await watched;
  return answered;
}
