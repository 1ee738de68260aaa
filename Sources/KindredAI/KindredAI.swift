/// KindredAI implements the model protocols declared in KindredCore (language models, speech
/// recognition) over HTTP: OpenAI-compatible endpoints, YandexGPT, and the gateway that routes, caches,
/// coalesces, limits and accounts every call. See DESIGN.md, "Models". The providers arrive with the
/// gateway issue; until then Kindred runs its deterministic paths only.
public enum KindredAI {}
