// Works around two faults of Sphinx 9's en_GB message catalogue, which make the search page throw
// ("Cannot read properties of undefined") instead of saying how many pages it found:
// - its plural rule, "(n != 1)", returns true or false, which indexes no plural form;
// - some of its translations are empty strings.
// Loaded after translations.js (priority 600) and before the search runs.
(function () {
  if (typeof Documentation === "undefined" || !Documentation.TRANSLATIONS) return;
  const rule = Documentation.PLURAL_EXPR;
  Documentation.PLURAL_EXPR = (n) => Number(rule(n));
  for (const [message, translated] of Object.entries(Documentation.TRANSLATIONS)) {
    const empty = Array.isArray(translated) ? translated.some((t) => !t) : translated === "";
    if (empty) delete Documentation.TRANSLATIONS[message];
  }
})();
