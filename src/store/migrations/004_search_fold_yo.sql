-- Search reads ё as е (domain/items.ts foldForSearch). Folds stored before this were
-- name.toLowerCase(), so applying the ё rule to them gives exactly what foldForSearch gives now:
-- ё as one code point, and е followed by a combining diaeresis (U+0308).
UPDATE items SET name_fold = replace(replace(name_fold, 'е' || char(776), 'е'), 'ё', 'е')
WHERE instr(name_fold, 'ё') > 0 OR instr(name_fold, char(776)) > 0;
