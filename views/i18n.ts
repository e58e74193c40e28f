/** Every user-facing string, in English and Russian. The launch's LANG picks one; anything else is English. */
const en = {
  appName: 'My items',
  openFromBitrix: 'Open this app from your Bitrix24 portal',
  openFromBitrixBody: 'b24app runs inside Bitrix24. Open it from the left menu of your portal, or sign in with your portal address.',
  portalAddress: 'Portal address',
  portalAddressHint: 'For example: mycompany.bitrix24.com',
  signIn: 'Sign in with Bitrix24',
  installTitle: 'Installing the app',
  installBody: 'Setting the app up for your portal…',
  installDone: 'Installed. Opening the app…',
  installNotAdmin: 'Only a portal administrator can finish installing this app.',
  notInstalled: 'The app is not installed on this portal.',
  greeting: 'Hello, {name}',
  newItem: 'New item',
  search: 'Search',
  searchPlaceholder: 'Search by name',
  filterAll: 'All',
  filterActive: 'Active',
  filterArchived: 'Archived',
  statusFilter: 'Show',
  loadMore: 'Load more',
  emptyTitle: 'No items yet',
  emptyBody: 'Create your first item with the “New item” button.',
  emptySearch: 'Nothing matches your search.',
  name: 'Name',
  notes: 'Notes',
  startsAt: 'Starts',
  endsAt: 'Ends',
  status: 'Status',
  active: 'Active',
  archived: 'Archived',
  save: 'Save',
  cancel: 'Cancel',
  create: 'Create',
  edit: 'Edit',
  delete: 'Delete',
  archive: 'Archive',
  restore: 'Restore',
  confirmDelete: 'Delete “{name}”? This cannot be undone.',
  created: 'Item created',
  saved: 'Changes saved',
  deleted: 'Item deleted',
  archivedToast: 'Item archived',
  restoredToast: 'Item restored',
  conflict: 'Someone changed this item meanwhile.',
  addToCalendar: 'Add to calendar',
  inCalendar: 'In calendar',
  calendarAdded: 'Added to your Bitrix24 calendar',
  calendarNeedsStart: 'Set a start time to add the item to the calendar.',
  loading: 'Loading…',
  updated: 'Updated {date}',
  actions: 'Actions for {name}',
  close: 'Close',
  export: 'Export',
  errorGeneric: 'Something went wrong. Please try again.',
  sessionExpired: 'Your session has expired. Reopen the app from Bitrix24.',
  errorNotFound: 'This item no longer exists.',
  errorConflict: 'Someone changed this item meanwhile. Reload the list and try again.',
  errorRateLimited: 'Bitrix24 is busy right now. Try again in a moment.',
  errorUpstream: 'Bitrix24 did not answer. Try again later.',
  errorForbidden: 'This action is not allowed.',
  pageErrorTitle: 'Request failed',
  pageErrorSignedOut: 'Not signed in',
  pageErrorNotInstalled: 'The app is not installed',
  pageErrorUnavailable: 'Bitrix24 is not answering',
  bitrixUnavailable: 'Bitrix24 did not answer in time. Wait a moment and open the app again.',
  appNotInstalled: 'This app was removed from your Bitrix24. An administrator can install it again from the Applications section.',
  pageErrorNotFound: 'Not found',
  pageErrorBusy: 'Too many attempts',
  pageErrorBroken: 'Something went wrong',
  launchUnverified: 'This launch could not be verified with Bitrix24. Open the app from your portal again.',
  tooManyAttempts: 'Too many failed attempts to open the app. Wait a minute and open it from Bitrix24 again.',
  nothingHere: 'Nothing here.',
  requestId: 'Request id',
  signInFailed: 'Sign-in failed',
  signInFailedBody: 'Signing in with Bitrix24 did not work. Please start again.',
  errorInvalid: 'The request was not understood. Reload the app and try again.',
  errorUnprocessable: 'Some fields are invalid.',
  errorPayloadTooLarge: 'That is too much text to save.',
  errorUnsupportedMediaType: 'The request was not understood. Reload the app and try again.',
  fieldNameRequired: 'Name is required.',
  fieldItemLimit: 'You have as many items as one person can keep. Delete some to add new ones.',
  fieldNameTooLong_one: 'Name must be at most {count} character.',
  fieldNameTooLong_few: 'Name must be at most {count} characters.',
  fieldNameTooLong_many: 'Name must be at most {count} characters.',
  fieldNameTooLong_other: 'Name must be at most {count} characters.',
  fieldDataNotObject: 'Data must be a JSON object.',
  fieldDataTooLarge: 'Data must be at most {size}.',
  fieldStatusInvalid: 'Status must be active or archived.',
  fieldEndBeforeStart: 'The end must not be before the start.',
  fieldStartForEnd: 'Set a start when there is an end.',
  fieldStartForCalendar: 'Required for the calendar.',
  fieldNotADate: 'Not a date and time.',
  hiddenByFilter: '{message}. It is hidden by the current search or filter.',
  conflictCurrent: 'Saved meanwhile:',
  conflictYours: 'Your version is in the form. Save to replace theirs, or cancel to keep it.',
  timeZoneNote: 'Times are in the {zone} time zone.',
  showMore: 'Show more',
  showLess: 'Show less',
  addAnother: 'Add another item',
} as const;

export type MessageKey = keyof typeof en;
type Dictionary = Record<MessageKey, string>;

const ru: Dictionary = {
  appName: 'Мои записи',
  openFromBitrix: 'Откройте приложение из вашего Битрикс24',
  openFromBitrixBody: 'b24app работает внутри Битрикс24. Откройте его из левого меню портала или войдите, указав адрес портала.',
  portalAddress: 'Адрес портала',
  portalAddressHint: 'Например: mycompany.bitrix24.ru',
  signIn: 'Войти через Битрикс24',
  installTitle: 'Установка приложения',
  installBody: 'Настраиваем приложение для вашего портала…',
  installDone: 'Установлено. Открываем приложение…',
  installNotAdmin: 'Завершить установку может только администратор портала.',
  notInstalled: 'Приложение не установлено на этом портале.',
  greeting: 'Здравствуйте, {name}',
  newItem: 'Новая запись',
  search: 'Поиск',
  searchPlaceholder: 'Поиск по названию',
  filterAll: 'Все',
  filterActive: 'Активные',
  filterArchived: 'В архиве',
  statusFilter: 'Показать',
  loadMore: 'Показать ещё',
  emptyTitle: 'Записей пока нет',
  emptyBody: 'Создайте первую запись кнопкой «Новая запись».',
  emptySearch: 'Ничего не найдено.',
  name: 'Название',
  notes: 'Заметки',
  startsAt: 'Начало',
  endsAt: 'Окончание',
  status: 'Статус',
  active: 'Активна',
  archived: 'В архиве',
  save: 'Сохранить',
  cancel: 'Отмена',
  create: 'Создать',
  edit: 'Изменить',
  delete: 'Удалить',
  archive: 'В архив',
  restore: 'Восстановить',
  confirmDelete: 'Удалить «{name}»? Это действие нельзя отменить.',
  created: 'Запись создана',
  saved: 'Изменения сохранены',
  deleted: 'Запись удалена',
  archivedToast: 'Запись перенесена в архив',
  restoredToast: 'Запись восстановлена',
  conflict: 'Запись изменили, пока вы её редактировали.',
  addToCalendar: 'В календарь',
  inCalendar: 'В календаре',
  calendarAdded: 'Добавлено в ваш календарь Битрикс24',
  calendarNeedsStart: 'Укажите время начала, чтобы добавить запись в календарь.',
  loading: 'Загрузка…',
  updated: 'Изменено {date}',
  actions: 'Действия для «{name}»',
  close: 'Закрыть',
  export: 'Экспорт',
  errorGeneric: 'Что-то пошло не так. Попробуйте ещё раз.',
  sessionExpired: 'Сессия истекла. Откройте приложение из Битрикс24 заново.',
  errorNotFound: 'Эта запись больше не существует.',
  errorConflict: 'Запись изменили, пока вы работали. Обновите список и попробуйте снова.',
  errorRateLimited: 'Битрикс24 сейчас перегружен. Попробуйте через минуту.',
  errorUpstream: 'Битрикс24 не ответил. Попробуйте позже.',
  errorForbidden: 'Это действие запрещено.',
  pageErrorTitle: 'Запрос не выполнен',
  pageErrorSignedOut: 'Вход не выполнен',
  pageErrorNotInstalled: 'Приложение не установлено',
  pageErrorUnavailable: 'Битрикс24 не отвечает',
  bitrixUnavailable: 'Битрикс24 не ответил вовремя. Подождите немного и откройте приложение снова.',
  appNotInstalled: 'Это приложение удалено из вашего Битрикс24. Администратор может установить его снова в разделе «Приложения».',
  pageErrorNotFound: 'Не найдено',
  pageErrorBusy: 'Слишком много попыток',
  pageErrorBroken: 'Что-то пошло не так',
  launchUnverified: 'Не удалось подтвердить запуск в Битрикс24. Откройте приложение из портала ещё раз.',
  tooManyAttempts: 'Слишком много неудачных попыток открыть приложение. Подождите минуту и откройте его из Битрикс24 снова.',
  nothingHere: 'Здесь ничего нет.',
  requestId: 'Номер запроса',
  signInFailed: 'Вход не удался',
  signInFailedBody: 'Не удалось войти через Битрикс24. Начните заново.',
  errorInvalid: 'Запрос не распознан. Перезагрузите приложение и попробуйте снова.',
  errorUnprocessable: 'Некоторые поля заполнены неверно.',
  errorPayloadTooLarge: 'Слишком много текста для сохранения.',
  errorUnsupportedMediaType: 'Запрос не распознан. Перезагрузите приложение и попробуйте снова.',
  fieldNameRequired: 'Укажите название.',
  fieldItemLimit: 'У вас уже столько записей, сколько можно хранить одному человеку. Удалите лишние, чтобы добавить новые.',
  fieldNameTooLong_one: 'Название — не длиннее {count} символа.',
  fieldNameTooLong_few: 'Название — не длиннее {count} символов.',
  fieldNameTooLong_many: 'Название — не длиннее {count} символов.',
  fieldNameTooLong_other: 'Название — не длиннее {count} символа.',
  fieldDataNotObject: 'Данные должны быть объектом JSON.',
  fieldDataTooLarge: 'Данные — не больше {size}.',
  fieldStatusInvalid: 'Статус — «активна» или «в архиве».',
  fieldEndBeforeStart: 'Окончание не может быть раньше начала.',
  fieldStartForEnd: 'Укажите начало, если указано окончание.',
  fieldStartForCalendar: 'Нужно для календаря.',
  fieldNotADate: 'Это не дата и время.',
  hiddenByFilter: '{message}. Она скрыта текущим поиском или фильтром.',
  conflictCurrent: 'Сохранено за это время:',
  conflictYours: 'Ваш вариант — в форме. Сохраните, чтобы заменить сохранённый, или отмените, чтобы оставить его.',
  timeZoneNote: 'Время указано по часовому поясу {zone}.',
  showMore: 'Показать полностью',
  showLess: 'Свернуть',
  addAnother: 'Добавить ещё запись',
};

const dictionaries: Record<Lang, Dictionary> = { en, ru };

export type Lang = 'en' | 'ru';
export const pickLang = (lang: string | null | undefined): Lang => (lang === 'ru' ? 'ru' : 'en');

/** Keys with plural forms: `name_one`, `name_few`, `name_many`, `name_other` (every form in every language). */
export type PluralKey = MessageKey extends infer K ? (K extends `${infer Base}_other` ? Base : never) : never;
export const PLURAL_FORMS = ['one', 'few', 'many', 'other'] as const;

export interface Translate {
  (key: MessageKey, vars?: Record<string, string>): string;
  /** The form of `key` for `count` by the language's plural rules (Intl.PluralRules); `{count}` is filled in. */
  plural(key: PluralKey, count: number, vars?: Record<string, string>): string;
}

/**
 * Quotes inside quotes. A value put between quotes by a template must not bring the same quotes in:
 * Russian uses «ёлочки» outside and „лапки“ inside, English “double” outside and ‘single’ inside.
 * The template's character before `{var}` says which quotes the value stands in.
 */
const INNER_QUOTES: Record<string, (v: string) => string> = {
  '«': (v) => v.replace(/«/g, '„').replace(/»/g, '“'),
  '“': (v) => v.replace(/“/g, '‘').replace(/”/g, '’'),
};

/** A translator for one language; `{name}` placeholders are filled from `vars` (escaping is the view's job). */
export function translator(lang: string | null | undefined): Translate {
  const picked = pickLang(lang);
  const dict = dictionaries[picked];
  const rules = new Intl.PluralRules(picked);
  const fill = (text: string, vars?: Record<string, string>) =>
    text.replace(/(.?)\{(\w+)\}/g, (_, before: string, v: string) => before + (INNER_QUOTES[before]?.(vars?.[v] ?? '') ?? vars?.[v] ?? ''));
  const t = ((key, vars) => fill(dict[key], vars)) as Translate;
  t.plural = (key, count, vars) => {
    const form = rules.select(count) as (typeof PLURAL_FORMS)[number];
    const text = dict[`${key}_${form}` as MessageKey] ?? dict[`${key}_other` as MessageKey];
    return fill(text, { ...vars, count: new Intl.NumberFormat(picked).format(count) });
  };
  return t;
}

export const allDictionaries = dictionaries;
