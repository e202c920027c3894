"""Every word a focal point reads on the portal, in Arabic, English and French.

One table, so a translator sees all three side by side and a missing translation fails the
tests (``test_portal_i18n``) rather than a page. Staff pages are in English only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

Language = Literal["ar", "en", "fr"]
LANGUAGES: Final[tuple[Language, ...]] = ("ar", "en", "fr")
DEFAULT: Final[Language] = "en"
NATIVE_NAMES: Final[dict[Language, str]] = {"ar": "العربية", "en": "English", "fr": "Français"}

STRINGS: Final[dict[str, dict[Language, str]]] = {
    # --- frame ---------------------------------------------------------------------------
    "brand": {
        "en": "Resolution follow-up",
        "fr": "Suivi des résolutions",
        "ar": "متابعة تنفيذ القرارات",
    },
    "language": {"en": "Language", "fr": "Langue", "ar": "اللغة"},
    "contact_line": {
        "en": "Questions? Write to",
        "fr": "Des questions ? Écrivez à",
        "ar": "للاستفسار، راسلوا",
    },
    "back_home": {
        "en": "Back to your page",
        "fr": "Retour à votre page",
        "ar": "العودة إلى صفحتكم",
    },
    "megabytes": {"en": "{n} MB", "fr": "{n} Mo", "ar": "{n} ميغابايت"},
    "kilobytes": {"en": "{n} KB", "fr": "{n} Ko", "ar": "{n} كيلوبايت"},
    # --- home ----------------------------------------------------------------------------
    "hello": {"en": "Hello {name},", "fr": "Bonjour {name},", "ar": "مرحبًا {name}،"},
    "home_intro": {
        "en": "This is your personal page for reporting on behalf of {entity}. "
        "Please do not share its address.",
        "fr": "Ceci est votre page personnelle pour rendre compte au nom de : {entity}. "
        "Merci de ne pas en partager l'adresse.",
        "ar": "هذه صفحتكم الشخصية لتقديم التقارير باسم {entity}. يُرجى عدم مشاركة عنوانها.",
    },
    "cycle_heading": {
        "en": "Your reporting cycle",
        "fr": "Votre cycle de rapport",
        "ar": "دورة التقارير الخاصة بكم",
    },
    "cycle": {"en": "Cycle", "fr": "Cycle", "ar": "الدورة"},
    "deadline": {"en": "Deadline", "fr": "Date limite", "ar": "الموعد النهائي"},
    "status": {"en": "Status", "fr": "État", "ar": "الحالة"},
    "days_left": {
        "en": "Days remaining: {days}",
        "fr": "Jours restants : {days}",
        "ar": "الأيام المتبقية: {days}",
    },
    "due_today": {
        "en": "The deadline is today.",
        "fr": "La date limite est aujourd'hui.",
        "ar": "الموعد النهائي هو اليوم.",
    },
    "overdue": {
        "en": "The deadline has passed; your return is still welcome.",
        "fr": "La date limite est passée ; votre réponse reste la bienvenue.",
        "ar": "انقضى الموعد النهائي، ولا يزال بإمكانكم إرسال ردّكم.",
    },
    "cycle_state.waiting": {"en": "Being prepared", "fr": "En préparation", "ar": "قيد الإعداد"},
    "cycle_state.open": {"en": "Open", "fr": "Ouvert", "ar": "مفتوحة"},
    "cycle_state.closed": {"en": "Closed", "fr": "Clos", "ar": "مغلقة"},
    "link_valid_until": {
        "en": "Your link is valid until {date}.",
        "fr": "Votre lien est valable jusqu'au {date}.",
        "ar": "رابطكم صالح حتى {date}.",
    },
    "step_download": {
        "en": "1. Download your questionnaire",
        "fr": "1. Téléchargez votre questionnaire",
        "ar": "1. نزّلوا استبيانكم",
    },
    "download_link": {
        "en": "Download the questionnaire (Excel)",
        "fr": "Télécharger le questionnaire (Excel)",
        "ar": "تنزيل الاستبيان (Excel)",
    },
    "download_hint": {
        "en": "Fill it in with Excel or LibreOffice. Keep it as .xlsx and do not rename "
        "or delete its sheets.",
        "fr": "Remplissez-le avec Excel ou LibreOffice. Gardez le format .xlsx et ne renommez "
        "ni ne supprimez ses feuilles.",
        "ar": "املؤوه باستخدام Excel أو LibreOffice، واحفظوه بصيغة xlsx دون إعادة تسمية "
        "أوراقه أو حذفها.",
    },
    "step_upload": {
        "en": "2. Send back the completed workbook",
        "fr": "2. Renvoyez le classeur rempli",
        "ar": "2. أعيدوا إرسال المصنّف بعد ملئه",
    },
    "upload_label": {
        "en": "Completed workbook (.xlsx, up to {max})",
        "fr": "Classeur rempli (.xlsx, {max} au maximum)",
        "ar": "المصنّف المملوء (xlsx، بحد أقصى {max})",
    },
    "upload_button": {"en": "Send", "fr": "Envoyer", "ar": "إرسال"},
    "upload_hint": {
        "en": "You can also reply to our email with the workbook attached.",
        "fr": "Vous pouvez aussi répondre à notre courriel en joignant le classeur.",
        "ar": "يمكنكم أيضًا الرد على رسالتنا الإلكترونية مع إرفاق المصنّف.",
    },
    "cycle_closed_note": {
        "en": "This cycle is closed: uploads are no longer accepted.",
        "fr": "Ce cycle est clos : les envois ne sont plus acceptés.",
        "ar": "هذه الدورة مغلقة: لم يعد بالإمكان إرسال الملفات.",
    },
    "history_heading": {
        "en": "Your returns",
        "fr": "Vos envois",
        "ar": "الملفات التي أرسلتموها",
    },
    "history_empty": {
        "en": "Nothing received yet.",
        "fr": "Aucun envoi reçu pour l'instant.",
        "ar": "لم نتسلّم أي ملف حتى الآن.",
    },
    "col_received": {"en": "Received", "fr": "Reçu le", "ar": "تاريخ الاستلام"},
    "col_file": {"en": "File", "fr": "Fichier", "ar": "الملف"},
    "col_channel": {"en": "Sent through", "fr": "Envoyé par", "ar": "طريقة الإرسال"},
    "col_state": {"en": "Result", "fr": "Résultat", "ar": "النتيجة"},
    "details": {"en": "Details", "fr": "Détails", "ar": "التفاصيل"},
    "channel.portal": {"en": "this page", "fr": "cette page", "ar": "هذه الصفحة"},
    "channel.email": {"en": "email", "fr": "courriel", "ar": "البريد الإلكتروني"},
    "channel.dropfolder": {"en": "the Secretariat", "fr": "le Secrétariat", "ar": "الأمانة العامة"},
    "channel.cli": {"en": "the Secretariat", "fr": "le Secrétariat", "ar": "الأمانة العامة"},
    # --- submission states (the validation stage sets them; unknown ones show as-is) -----
    "state.received": {
        "en": "Received — being checked",
        "fr": "Reçu — en cours de vérification",
        "ar": "تم الاستلام — قيد التحقق",
    },
    "state.accepted": {"en": "Accepted", "fr": "Accepté", "ar": "مقبول"},
    "state.rejected": {"en": "Needs corrections", "fr": "À corriger", "ar": "يحتاج إلى تصحيح"},
    "state.superseded": {
        "en": "Replaced by a later return",
        "fr": "Remplacé par un envoi ultérieur",
        "ar": "حلّ محلّه ملف لاحق",
    },
    "state.failed": {
        "en": "Could not be checked; the Secretariat has been told",
        "fr": "Vérification impossible ; le Secrétariat a été prévenu",
        "ar": "تعذّر التحقق منه، وقد أُبلغت الأمانة العامة",
    },
    "state.validating": {
        "en": "Being checked",
        "fr": "En cours de vérification",
        "ar": "قيد التحقق",
    },
    "state.accepted_with_warnings": {
        "en": "Accepted, with remarks",
        "fr": "Accepté, avec des remarques",
        "ar": "مقبول مع ملاحظات",
    },
    "state.refused": {"en": "To be corrected", "fr": "À corriger", "ar": "يحتاج إلى تصحيح"},
    "state.unreadable": {
        "en": "Could not be opened",
        "fr": "Illisible",
        "ar": "تعذّر فتحه",
    },
    "state.correction_requested": {
        "en": "Correction requested by the Secretariat",
        "fr": "Correction demandée par le Secrétariat",
        "ar": "طلبت الأمانة العامة تصحيحه",
    },
    # --- a submission --------------------------------------------------------------------
    "result_title": {"en": "Return #{id}", "fr": "Envoi n° {id}", "ar": "الملف رقم {id}"},
    "just_received": {
        "en": "Thank you: we received your workbook. It is being checked; the result will "
        "appear on this page and will also be sent to you by email.",
        "fr": "Merci : nous avons bien reçu votre classeur. Il est en cours de vérification ; "
        "le résultat s'affichera sur cette page et vous sera aussi envoyé par courriel.",
        "ar": "شكرًا لكم، لقد تسلّمنا مصنّفكم. يجري التحقق منه الآن، وستظهر النتيجة في هذه "
        "الصفحة كما ستصلكم بالبريد الإلكتروني.",
    },
    "received_notice": {
        "en": "Thank you: we received your workbook.",
        "fr": "Merci : nous avons bien reçu votre classeur.",
        "ar": "شكرًا لكم، لقد تسلّمنا مصنّفكم.",
    },
    # The quick check, shown at once after an upload (the full check follows).
    "quick_heading": {"en": "First check", "fr": "Première vérification", "ar": "التحقق الأولي"},
    "quick.ok": {
        "en": "First check passed: this is your questionnaire and its {rows} rows have the "
        "expected shape. The content checks follow; their result will appear on this page "
        "and will be sent to you by email.",
        "fr": "Première vérification réussie : c'est bien votre questionnaire et ses {rows} "
        "lignes ont la forme attendue. Les contrôles du contenu suivent ; leur résultat "
        "s'affichera sur cette page et vous sera envoyé par courriel.",
        "ar": "نجح التحقق الأولي: هذا هو استبيانكم وعدد صفوفه {rows} بالشكل المطلوب. يلي ذلك "
        "التحقق من المحتوى، وستظهر نتيجته في هذه الصفحة كما ستصلكم بالبريد الإلكتروني.",
    },
    "quick.invalid": {
        "en": "This workbook cannot be accepted as it is. Please correct the points below and "
        "send it again. We have kept this file: the same report, with a copy of your workbook "
        "marking each point, will also reach you by email.",
        "fr": "Ce classeur ne peut pas être accepté en l'état. Veuillez corriger les points "
        "ci-dessous et le renvoyer. Nous avons conservé ce fichier : le même rapport, avec une "
        "copie de votre classeur où chaque point est signalé, vous parviendra aussi par "
        "courriel.",
        "ar": "لا يمكن قبول هذا المصنف على حاله. يرجى تصحيح النقاط الواردة أدناه وإعادة إرساله. "
        "لقد احتفظنا بهذا الملف، وسيصلكم التقرير نفسه بالبريد الإلكتروني مع نسخة من مصنفكم "
        "تبيّن كل نقطة.",
    },
    "quick.unreadable": {
        "en": "This file cannot be opened safely, so it cannot be accepted (see below). "
        "Please send your questionnaire workbook again, saved as an Excel workbook (.xlsx). "
        "We have kept this file; you will also be told by email.",
        "fr": "Ce fichier ne peut pas être ouvert en toute sécurité ; il ne peut donc pas être "
        "accepté (voir ci-dessous). Veuillez renvoyer le classeur de votre questionnaire, "
        "enregistré au format Excel (.xlsx). Nous avons conservé ce fichier ; vous en serez "
        "aussi informé par courriel.",
        "ar": "لا يمكن فتح هذا الملف بأمان، ولذلك لا يمكن قبوله (انظر أدناه). يرجى إعادة إرسال "
        "مصنف الاستبيان محفوظًا بصيغة Excel ‏(.xlsx). لقد احتفظنا بهذا الملف، وسنبلغكم بذلك "
        "أيضًا بالبريد الإلكتروني.",
    },
    "remarks_heading": {"en": "Remarks", "fr": "Remarques", "ar": "ملاحظات"},
    "col_severity": {"en": "Type", "fr": "Type", "ar": "النوع"},
    "col_fix": {"en": "How to fix it", "fr": "Comment corriger", "ar": "طريقة التصحيح"},
    "download_annotated": {
        "en": "Download your workbook with each point marked",
        "fr": "Télécharger votre classeur avec chaque point signalé",
        "ar": "تنزيل مصنفكم مع تمييز كل نقطة",
    },
    "duplicate_notice": {
        "en": "This file is identical to return #{id}, received on {date}: it was not "
        "counted twice.",
        "fr": "Ce fichier est identique à l'envoi n° {id}, reçu le {date} : il n'a pas été "
        "compté deux fois.",
        "ar": "هذا الملف مطابق للملف رقم {id} الذي تسلّمناه بتاريخ {date}، ولم يُحتسب مرتين.",
    },
    "being_checked_note": {
        "en": "The check usually takes a few minutes. Reload this page to see the result.",
        "fr": "La vérification prend en général quelques minutes. Rechargez cette page pour "
        "voir le résultat.",
        "ar": "يستغرق التحقق عادةً بضع دقائق. أعيدوا تحميل هذه الصفحة لرؤية النتيجة.",
    },
    "field_size": {"en": "Size", "fr": "Taille", "ar": "الحجم"},
    "field_sender": {"en": "Sender", "fr": "Expéditeur", "ar": "المُرسِل"},
    "outcome": {"en": "Outcome", "fr": "Résultat", "ar": "النتيجة"},
    "problems_heading": {
        "en": "Problems to correct",
        "fr": "Problèmes à corriger",
        "ar": "مشكلات يجب تصحيحها",
    },
    "warnings_heading": {"en": "Warnings", "fr": "Avertissements", "ar": "تنبيهات"},
    "col_row": {"en": "Row", "fr": "Ligne", "ar": "الصف"},
    "col_paragraph": {"en": "Paragraph", "fr": "Paragraphe", "ar": "الفقرة"},
    "col_column": {"en": "Column", "fr": "Colonne", "ar": "العمود"},
    "col_message": {"en": "Problem", "fr": "Problème", "ar": "المشكلة"},
    "download_original": {
        "en": "Download the file you sent",
        "fr": "Télécharger le fichier envoyé",
        "ar": "تنزيل الملف الذي أرسلتموه",
    },
    # --- a refused link ------------------------------------------------------------------
    "refused_title": {
        "en": "This link cannot be used",
        "fr": "Ce lien ne peut pas être utilisé",
        "ar": "لا يمكن استخدام هذا الرابط",
    },
    "refused.expired": {
        "en": "Your personal link has expired.",
        "fr": "Votre lien personnel a expiré.",
        "ar": "انتهت صلاحية رابطكم الشخصي.",
    },
    "refused.revoked": {
        "en": "Your personal link was withdrawn by the Secretariat.",
        "fr": "Votre lien personnel a été retiré par le Secrétariat.",
        "ar": "سحبت الأمانة العامة رابطكم الشخصي.",
    },
    "refused.invalid": {
        "en": "This link is not valid. Please check that you copied the whole address from "
        "the email.",
        "fr": "Ce lien n'est pas valide. Vérifiez que vous avez copié l'adresse complète depuis "
        "le courriel.",
        "ar": "هذا الرابط غير صالح. يُرجى التأكد من نسخ العنوان كاملًا من الرسالة الإلكترونية.",
    },
    "refused_next": {
        "en": "To get a new link, write to the Secretariat. You can also reply to the email "
        "that brought you the questionnaire, with your completed workbook attached.",
        "fr": "Pour obtenir un nouveau lien, écrivez au Secrétariat. Vous pouvez aussi répondre "
        "au courriel qui vous a apporté le questionnaire, en y joignant votre classeur rempli.",
        "ar": "للحصول على رابط جديد، راسلوا الأمانة العامة. ويمكنكم أيضًا الرد على الرسالة التي "
        "وصلكم بها الاستبيان مع إرفاق مصنّفكم المملوء.",
    },
    # --- errors --------------------------------------------------------------------------
    "error.too_large.title": {
        "en": "The file is too large",
        "fr": "Le fichier est trop volumineux",
        "ar": "الملف كبير جدًا",
    },
    "error.too_large": {
        "en": "The limit is {max}. Remove pictures or sheets you added, save, and try again.",
        "fr": "La limite est de {max}. Retirez les images ou les feuilles ajoutées, "
        "enregistrez, puis réessayez.",
        "ar": "الحد الأقصى هو {max}. احذفوا الصور أو الأوراق التي أضفتموها، ثم احفظوا الملف "
        "وحاولوا مجددًا.",
    },
    "error.not_workbook.title": {
        "en": "This file is not an Excel workbook",
        "fr": "Ce fichier n'est pas un classeur Excel",
        "ar": "هذا الملف ليس مصنّف Excel",
    },
    "sniff.not_xlsx": {
        "en": "Please send the questionnaire as an Excel workbook (.xlsx). Renaming a file does "
        "not change its format: open it in Excel or LibreOffice and choose “Save as” → "
        "Excel workbook (.xlsx).",
        "fr": "Merci d'envoyer le questionnaire sous forme de classeur Excel (.xlsx). Renommer "
        "un fichier ne change pas son format : ouvrez-le dans Excel ou LibreOffice et choisissez "
        "« Enregistrer sous » → Classeur Excel (.xlsx).",
        "ar": "يُرجى إرسال الاستبيان بصيغة مصنّف Excel (xlsx). تغيير اسم الملف لا يغيّر "
        "صيغته: افتحوه في Excel أو LibreOffice واختاروا «حفظ باسم» ← مصنّف Excel (xlsx).",
    },
    "sniff.ole": {
        "en": "This is an old-format (.xls) or password-protected file. Open it, remove any "
        "password, and save it as an Excel workbook (.xlsx).",
        "fr": "Il s'agit d'un fichier à l'ancien format (.xls) ou protégé par un mot de passe. "
        "Ouvrez-le, retirez le mot de passe, puis enregistrez-le comme classeur Excel (.xlsx).",
        "ar": "هذا ملف بالصيغة القديمة (xls) أو محمي بكلمة مرور. افتحوه وأزيلوا كلمة المرور "
        "ثم احفظوه كمصنّف Excel (xlsx).",
    },
    "sniff.ods": {
        "en": "This is an OpenDocument (.ods) spreadsheet. In LibreOffice choose “Save as” → "
        "Excel 2007-365 (.xlsx).",
        "fr": "Il s'agit d'un tableur OpenDocument (.ods). Dans LibreOffice, choisissez "
        "« Enregistrer sous » → Excel 2007-365 (.xlsx).",
        "ar": "هذا جدول بصيغة OpenDocument (ods). في LibreOffice اختاروا «حفظ باسم» ← "
        "Excel 2007-365 (xlsx).",
    },
    "sniff.macros": {
        "en": "The workbook contains macros, which we cannot accept. Save it as an Excel "
        "workbook (.xlsx) without macros.",
        "fr": "Le classeur contient des macros, que nous ne pouvons pas accepter. "
        "Enregistrez-le comme classeur Excel (.xlsx) sans macros.",
        "ar": "يحتوي المصنّف على وحدات ماكرو لا يمكننا قبولها. احفظوه كمصنّف Excel (xlsx) "
        "دون وحدات ماكرو.",
    },
    "sniff.corrupt": {
        "en": "The file is damaged or was not completely saved. Open it in Excel or "
        "LibreOffice, save it again and retry.",
        "fr": "Le fichier est endommagé ou n'a pas été complètement enregistré. Ouvrez-le dans "
        "Excel ou LibreOffice, enregistrez-le de nouveau et réessayez.",
        "ar": "الملف تالف أو لم يُحفظ بالكامل. افتحوه في Excel أو LibreOffice واحفظوه من جديد "
        "ثم أعيدوا المحاولة.",
    },
    "sniff.empty": {
        "en": "The file is empty.",
        "fr": "Le fichier est vide.",
        "ar": "الملف فارغ.",
    },
    "error.no_file.title": {
        "en": "No file was sent",
        "fr": "Aucun fichier n'a été envoyé",
        "ar": "لم يُرسَل أي ملف",
    },
    "error.no_file": {
        "en": "Choose your completed workbook, then press “Send”.",
        "fr": "Choisissez votre classeur rempli, puis appuyez sur « Envoyer ».",
        "ar": "اختاروا مصنّفكم المملوء ثم اضغطوا «إرسال».",
    },
    "error.rate_limited.title": {
        "en": "Please wait before sending again",
        "fr": "Merci de patienter avant un nouvel envoi",
        "ar": "يُرجى الانتظار قبل الإرسال مجددًا",
    },
    "error.rate_limited": {
        "en": "You have sent {limit} files in the last {minutes} minutes. You can send again "
        "at {time} UTC (in about {wait} minutes).",
        "fr": "Vous avez envoyé {limit} fichiers au cours des {minutes} dernières minutes. "
        "Vous pourrez envoyer de nouveau à {time} UTC (dans {wait} minutes environ).",
        "ar": "أرسلتم {limit} ملفات خلال آخر {minutes} دقيقة. يمكنكم الإرسال مجددًا في الساعة "
        "{time} بالتوقيت العالمي (بعد نحو {wait} دقيقة).",
    },
    "error.forbidden.title": {
        "en": "Not available with your link",
        "fr": "Non disponible avec votre lien",
        "ar": "غير متاح عبر رابطكم",
    },
    "error.forbidden": {
        "en": "Your personal link is for {entity}, cycle {cycle}, only.",
        "fr": "Votre lien personnel ne vaut que pour {entity}, cycle {cycle}.",
        "ar": "رابطكم الشخصي مخصص لـ{entity} في الدورة {cycle} فقط.",
    },
    "error.not_found.title": {
        "en": "Page not found",
        "fr": "Page introuvable",
        "ar": "الصفحة غير موجودة",
    },
    "error.not_found": {
        "en": "There is nothing at this address. Open your personal page from the link in our "
        "email.",
        "fr": "Il n'y a rien à cette adresse. Ouvrez votre page personnelle depuis le lien de "
        "notre courriel.",
        "ar": "لا يوجد شيء في هذا العنوان. افتحوا صفحتكم الشخصية من الرابط الوارد في رسالتنا.",
    },
    "error.cycle_closed.title": {
        "en": "This cycle is closed",
        "fr": "Ce cycle est clos",
        "ar": "هذه الدورة مغلقة",
    },
    "error.cycle_closed": {
        "en": "Uploads are no longer accepted for this cycle. Please write to the Secretariat.",
        "fr": "Les envois ne sont plus acceptés pour ce cycle. Merci d'écrire au Secrétariat.",
        "ar": "لم يعد بالإمكان إرسال الملفات في هذه الدورة. يُرجى مراسلة الأمانة العامة.",
    },
    "error.no_questionnaire.title": {
        "en": "Your questionnaire is not ready",
        "fr": "Votre questionnaire n'est pas prêt",
        "ar": "استبيانكم غير جاهز بعد",
    },
    "error.no_questionnaire": {
        "en": "Please try again later, or write to the Secretariat.",
        "fr": "Merci de réessayer plus tard, ou d'écrire au Secrétariat.",
        "ar": "يُرجى المحاولة لاحقًا أو مراسلة الأمانة العامة.",
    },
    "error.server.title": {
        "en": "Something went wrong",
        "fr": "Une erreur s'est produite",
        "ar": "حدث خطأ",
    },
    "error.server": {
        "en": "Your file was not received. Please try again in a few minutes; if it happens "
        "again, write to the Secretariat.",
        "fr": "Votre fichier n'a pas été reçu. Merci de réessayer dans quelques minutes ; si "
        "cela se reproduit, écrivez au Secrétariat.",
        "ar": "لم نتسلّم ملفكم. يُرجى المحاولة مجددًا بعد بضع دقائق، وإن تكرر ذلك فراسلوا "
        "الأمانة العامة.",
    },
    "error.bad_request.title": {
        "en": "The form could not be read",
        "fr": "Le formulaire n'a pas pu être lu",
        "ar": "تعذّرت قراءة النموذج",
    },
    "error.bad_request": {
        "en": "Please go back to your page and send the file again.",
        "fr": "Revenez à votre page et envoyez de nouveau le fichier.",
        "ar": "يُرجى العودة إلى صفحتكم وإرسال الملف مجددًا.",
    },
}


def text(key: str, language: str, **values: object) -> str:
    """The string ``key`` in ``language`` (English if that language lacks it), filled in."""
    entry: dict[str, str] = STRINGS[key]  # type: ignore[assignment]
    template = entry.get(language) or entry[DEFAULT]
    return template.format(**values) if values else template


def has(key: str) -> bool:
    return key in STRINGS


def direction(language: str) -> str:
    return "rtl" if language == "ar" else "ltr"


def normalise(language: str | None) -> Language | None:
    """``language`` if it is one of ours (``fr-CA`` counts as ``fr``), else None."""
    if not language:
        return None
    code = language.strip().lower()[:2]
    for known in LANGUAGES:
        if known == code:
            return known
    return None


def from_accept_language(header: str | None) -> Language | None:
    """The best of our languages in an ``Accept-Language`` header, or None."""
    if not header:
        return None
    ranked: list[tuple[float, int, Language]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = normalise(tag)
        if language and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def choose(*candidates: str | None) -> Language:
    """The first candidate that is one of our languages, else English."""
    for candidate in candidates:
        language = normalise(candidate)
        if language:
            return language
    return DEFAULT


def size_text(size: int, language: str) -> str:
    """A byte count for people: ``10 MB``, ``212 KB``."""
    if size >= 1024 * 1024:
        value = size / (1024 * 1024)
        number = f"{value:.0f}" if value >= 10 or value.is_integer() else f"{value:.1f}"
        return text("megabytes", language, n=number)
    return text("kilobytes", language, n=max(1, round(size / 1024)))


def missing_translations(keys: Iterable[str] | None = None) -> list[str]:
    """``key/lang`` for every string not translated into all three languages."""
    return [
        f"{key}/{language}"
        for key in (keys if keys is not None else STRINGS)
        for language in LANGUAGES
        if not STRINGS[key].get(language)
    ]
