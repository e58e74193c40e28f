-- Search reads ё as е (as ../004_search_fold_yo.sql): ё as one code point, and е followed by a
-- combining diaeresis (U+0308), in folds stored before this.
UPDATE items SET name_fold = replace(replace(name_fold, 'е' || chr(776), 'е'), 'ё', 'е')
WHERE strpos(name_fold, 'ё') > 0 OR strpos(name_fold, chr(776)) > 0;
