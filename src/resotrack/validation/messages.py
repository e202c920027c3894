"""What a focal point reads about a problem, in Arabic, English and French.

Written for diplomats and civil servants, not for programmers: what is wrong, where, and the
one thing to do about it, in the words of Excel's own menus. Never a stack trace, never
"schema" or "regex". Each rule has a ``message`` and a ``fix``; placeholders are filled from a
problem's values, and a value given as ``{"ar": ..., "en": ..., "fr": ...}`` is picked per
language (column titles, entity names, status labels).

The wording of the quality rules lives with the rules, in the ``meta`` of each expectation of
``expectations/return_quality.json``, so that staff who change a rule change its words too;
:func:`describe` finds it there. A missing translation fails at import time or when the
suite is loaded, never in an email.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from resotrack.questionnaires.i18n import LANGUAGES, Language, status_labels, text

if TYPE_CHECKING:
    from resotrack.validation.report import Problem

Texts = Mapping[Language, str]

_GENERIC_FIX: Final[Texts] = {
    "en": "If you are unsure what to change, reply to this email and the Secretariat will help.",
    "fr": "En cas de doute, répondez à ce message : le Secrétariat vous aidera.",
    "ar": "إذا كان لديكم أي استفسار، يرجى الرد على هذه الرسالة وستقدم لكم الأمانة العامة المساعدة.",
}

# rule id -> {"message": {lang: text}, "fix": {lang: text}}
RULES: Final[dict[str, dict[str, Texts]]] = {
    # --- reading the file (outcome "unreadable") ----------------------------------------
    "read.empty": {
        "message": {
            "en": "The file you sent is empty.",
            "fr": "Le fichier envoyé est vide.",
            "ar": "الملف الذي أرسلتموه فارغ.",
        },
        "fix": {
            "en": "Please send the completed questionnaire workbook again.",
            "fr": "Veuillez renvoyer le classeur du questionnaire complété.",
            "ar": "يرجى إعادة إرسال مصنف الاستبيان بعد ملئه.",
        },
    },
    "read.not_a_workbook": {
        "message": {
            "en": "The file you sent is not an Excel workbook.",
            "fr": "Le fichier envoyé n'est pas un classeur Excel.",
            "ar": "الملف الذي أرسلتموه ليس مصنف إكسل.",
        },
        "fix": {
            "en": "Please send the questionnaire workbook (.xlsx) we sent you, once completed.",
            "fr": "Veuillez envoyer le classeur du questionnaire (.xlsx) que nous vous avons "
            "adressé, une fois complété.",
            "ar": "يرجى إرسال مصنف الاستبيان (xlsx) الذي أرسلناه إليكم بعد ملئه.",
        },
    },
    "read.csv": {
        "message": {
            "en": "The file is a plain text (CSV) file named like a workbook: it does not "
            "contain the questionnaire.",
            "fr": "Le fichier est un simple fichier texte (CSV) nommé comme un classeur : il ne "
            "contient pas le questionnaire.",
            "ar": "الملف نصي بسيط (CSV) يحمل اسم مصنف، ولا يحتوي على الاستبيان.",
        },
        "fix": {
            "en": "Open the questionnaire we sent you in Excel or LibreOffice, complete it and "
            "save it as an Excel workbook (.xlsx).",
            "fr": "Ouvrez le questionnaire que nous vous avons envoyé dans Excel ou LibreOffice, "
            "complétez-le et enregistrez-le au format classeur Excel (.xlsx).",
            "ar": "افتحوا الاستبيان الذي أرسلناه إليكم في إكسل أو ليبر أوفيس، واملؤوه، ثم "
            "احفظوه بصيغة مصنف إكسل (xlsx).",
        },
    },
    "read.xls": {
        "message": {
            "en": "The file is in the old Excel 97-2003 format (.xls).",
            "fr": "Le fichier est dans l'ancien format Excel 97-2003 (.xls).",
            "ar": "الملف بالصيغة القديمة لإكسل 97-2003 (xls).",
        },
        "fix": {
            "en": "Open it and choose File > Save As > “Excel Workbook (.xlsx)”, then send "
            "that file.",
            "fr": "Ouvrez-le, choisissez Fichier > Enregistrer sous > « Classeur Excel "
            "(.xlsx) », puis envoyez ce fichier.",
            "ar": "افتحوه واختاروا ملف > حفظ باسم > «مصنف إكسل (xlsx)»، ثم أرسلوا ذلك الملف.",
        },
    },
    "read.ods": {
        "message": {
            "en": "The file is an OpenDocument spreadsheet (.ods), not an Excel workbook.",
            "fr": "Le fichier est un classeur OpenDocument (.ods), pas un classeur Excel.",
            "ar": "الملف جدول بيانات بصيغة OpenDocument (ods) وليس مصنف إكسل.",
        },
        "fix": {
            "en": "In LibreOffice choose File > Save As, pick “Excel 2007-365 (.xlsx)” and "
            "send that file.",
            "fr": "Dans LibreOffice, choisissez Fichier > Enregistrer sous, puis « Excel "
            "2007-365 (.xlsx) », et envoyez ce fichier.",
            "ar": "في ليبر أوفيس اختاروا ملف > حفظ باسم، ثم «Excel 2007-365 (.xlsx)»، "
            "وأرسلوا ذلك الملف.",
        },
    },
    "read.encrypted": {
        "message": {
            "en": "The workbook is protected by a password, so it cannot be opened.",
            "fr": "Le classeur est protégé par un mot de passe : il ne peut pas être ouvert.",
            "ar": "المصنف محمي بكلمة مرور، لذلك لا يمكن فتحه.",
        },
        "fix": {
            "en": "Remove the password (File > Info > Protect Workbook > Encrypt with Password, "
            "then clear it), save, and send it again.",
            "fr": "Retirez le mot de passe (Fichier > Informations > Protéger le classeur > "
            "Chiffrer avec mot de passe, puis effacez-le), enregistrez et renvoyez-le.",
            "ar": "أزيلوا كلمة المرور (ملف > معلومات > حماية المصنف > تشفير بكلمة مرور، ثم "
            "امسحوها)، واحفظوا الملف وأعيدوا إرساله.",
        },
    },
    "read.macros": {
        "message": {
            "en": "The workbook contains macros or other active content, which cannot be "
            "accepted for security reasons.",
            "fr": "Le classeur contient des macros ou un autre contenu actif, qui ne peuvent "
            "être acceptés pour des raisons de sécurité.",
            "ar": "يحتوي المصنف على وحدات ماكرو أو محتوى نشط آخر لا يمكن قبوله لأسباب أمنية.",
        },
        "fix": {
            "en": "Save it as “Excel Workbook (.xlsx)”, not as a macro-enabled workbook (.xlsm), "
            "and send it again.",
            "fr": "Enregistrez-le en « Classeur Excel (.xlsx) » et non en classeur prenant en "
            "charge les macros (.xlsm), puis renvoyez-le.",
            "ar": "احفظوه بصيغة «مصنف إكسل (xlsx)» وليس بصيغة مصنف ممكّن للماكرو (xlsm)، "
            "وأعيدوا إرساله.",
        },
    },
    "read.embedded": {
        "message": {
            "en": "The workbook contains an embedded object or hidden data (another document, "
            "a package or custom XML) that a questionnaire never has; for security reasons it "
            "cannot be accepted.",
            "fr": "Le classeur contient un objet incorporé ou des données cachées (un autre "
            "document, un paquet ou du XML personnalisé) qu'un questionnaire ne comporte "
            "jamais ; pour des raisons de sécurité, il ne peut être accepté.",
            "ar": "يحتوي المصنف على كائن مضمَّن أو بيانات مخفية (مستند آخر أو حزمة أو بيانات "
            "XML مخصصة) لا يتضمنها الاستبيان أبدًا، ولذلك لا يمكن قبوله لأسباب أمنية.",
        },
        "fix": {
            "en": "Copy your answers into the questionnaire workbook we sent you, without "
            "inserting objects, save it as “Excel Workbook (.xlsx)” and send it again.",
            "fr": "Reportez vos réponses dans le classeur du questionnaire que nous vous avons "
            "adressé, sans y insérer d'objet, enregistrez-le en « Classeur Excel (.xlsx) » "
            "puis renvoyez-le.",
            "ar": "انقلوا إجاباتكم إلى مصنف الاستبيان الذي أرسلناه إليكم دون إدراج أي كائن، "
            "واحفظوه بصيغة «مصنف إكسل (xlsx)» ثم أعيدوا إرساله.",
        },
    },
    "read.external": {
        "message": {
            "en": "The workbook links to other files, programs or data sources (external "
            "links, DDE or data connections), which cannot be accepted for security reasons.",
            "fr": "Le classeur contient des liaisons vers d'autres fichiers, programmes ou "
            "sources de données (liaisons externes, DDE ou connexions de données), qui ne "
            "peuvent être acceptées pour des raisons de sécurité.",
            "ar": "يحتوي المصنف على روابط إلى ملفات أو برامج أو مصادر بيانات أخرى (روابط "
            "خارجية أو DDE أو اتصالات بيانات)، ولا يمكن قبولها لأسباب أمنية.",
        },
        "fix": {
            "en": "In Excel, use Data › Edit Links › Break Link (and remove any data "
            "connection), save the workbook and send it again.",
            "fr": "Dans Excel, choisissez Données › Modifier les liens › Rompre la liaison (et "
            "supprimez toute connexion de données), enregistrez le classeur puis renvoyez-le.",
            "ar": "في إكسل، اختاروا البيانات › تحرير الارتباطات › قطع الارتباط (واحذفوا أي "
            "اتصال بيانات)، ثم احفظوا المصنف وأعيدوا إرساله.",
        },
    },
    "read.damaged": {
        "message": {
            "en": "The file is damaged or incomplete; it may have been cut off while being sent.",
            "fr": "Le fichier est endommagé ou incomplet ; il a pu être tronqué lors de l'envoi.",
            "ar": "الملف تالف أو غير مكتمل، وربما انقطع أثناء الإرسال.",
        },
        "fix": {
            "en": "Check that the workbook opens on your computer, save it again and resend it.",
            "fr": "Vérifiez que le classeur s'ouvre sur votre ordinateur, enregistrez-le de "
            "nouveau et renvoyez-le.",
            "ar": "تأكدوا من أن المصنف يُفتح على حاسوبكم، واحفظوه من جديد وأعيدوا إرساله.",
        },
    },
    "read.too_large": {
        "message": {
            "en": "Once opened, the workbook would be far larger than the questionnaire can be "
            "({detail}); for safety it was not opened.",
            "fr": "Une fois ouvert, le classeur serait bien plus volumineux que ne peut l'être "
            "le questionnaire ({detail}) ; par sécurité, il n'a pas été ouvert.",
            "ar": "عند فتحه سيكون المصنف أكبر بكثير مما يمكن أن يكون عليه الاستبيان ({detail})، "
            "ولذلك لم يُفتح حفاظًا على الأمان.",
        },
        "fix": {
            "en": "Send the questionnaire workbook we sent you, completed, without added sheets, "
            "pictures or other content.",
            "fr": "Envoyez le classeur du questionnaire que nous vous avons adressé, complété, "
            "sans feuilles, images ni autre contenu ajoutés.",
            "ar": "أرسلوا مصنف الاستبيان الذي أرسلناه إليكم بعد ملئه، دون إضافة أوراق أو صور أو "
            "أي محتوى آخر.",
        },
    },
    "read.unsafe_xml": {
        "message": {
            "en": "The workbook has an unusual internal structure ({detail}) that cannot be "
            "accepted for security reasons.",
            "fr": "Le classeur présente une structure interne inhabituelle ({detail}) qui ne "
            "peut être acceptée pour des raisons de sécurité.",
            "ar": "للمصنف بنية داخلية غير معتادة ({detail}) لا يمكن قبولها لأسباب أمنية.",
        },
        "fix": {
            "en": "Open the questionnaire in Excel or LibreOffice and save it again as .xlsx "
            "before sending it.",
            "fr": "Ouvrez le questionnaire dans Excel ou LibreOffice et enregistrez-le de "
            "nouveau en .xlsx avant de l'envoyer.",
            "ar": "افتحوا الاستبيان في إكسل أو ليبر أوفيس واحفظوه من جديد بصيغة xlsx قبل إرساله.",
        },
    },
    "read.extent": {
        "message": {
            "en": "The sheet “{sheet}” reaches {extent}, far beyond the questionnaire's table "
            "(at most {max_rows} rows and {max_cols} columns).",
            "fr": "La feuille « {sheet} » s'étend jusqu'à {extent}, bien au-delà du tableau du "
            "questionnaire (au plus {max_rows} lignes et {max_cols} colonnes).",
            "ar": "تمتد الورقة «{sheet}» حتى {extent}، أي أبعد بكثير من جدول الاستبيان (بحد "
            "أقصى {max_rows} صفًا و{max_cols} عمودًا).",
        },
        "fix": {
            "en": "Delete whatever was added outside the table, save and send it again.",
            "fr": "Supprimez ce qui a été ajouté en dehors du tableau, enregistrez et renvoyez.",
            "ar": "احذفوا كل ما أضيف خارج الجدول، واحفظوا الملف وأعيدوا إرساله.",
        },
    },
    "read.too_slow": {
        "message": {
            "en": "The workbook could not be read in reasonable time or memory; for safety, "
            "reading was stopped.",
            "fr": "Le classeur n'a pas pu être lu dans un délai ou une mémoire raisonnables ; "
            "par sécurité, la lecture a été interrompue.",
            "ar": "تعذرت قراءة المصنف في وقت أو ذاكرة معقولين، فأوقفت القراءة حفاظًا على الأمان.",
        },
        "fix": {
            "en": "Send the questionnaire workbook we sent you, completed, without added content.",
            "fr": "Envoyez le classeur du questionnaire que nous vous avons adressé, complété, "
            "sans contenu ajouté.",
            "ar": "أرسلوا مصنف الاستبيان الذي أرسلناه إليكم بعد ملئه، دون أي محتوى مضاف.",
        },
    },
    # --- which questionnaire is it? (outcome "refused") ---------------------------------
    "identify.meta_missing": {
        "message": {
            "en": "This workbook cannot be recognised as one of our questionnaires: its hidden "
            "identification sheet is missing. This happens when answers are copied into a new "
            "workbook.",
            "fr": "Ce classeur n'est pas reconnu comme l'un de nos questionnaires : sa feuille "
            "d'identification masquée est absente. Cela arrive lorsque les réponses sont "
            "copiées dans un nouveau classeur.",
            "ar": "لا يمكن التعرف على هذا المصنف كأحد استبياناتنا، إذ إن ورقة التعريف المخفية "
            "مفقودة. يحدث ذلك عند نسخ الإجابات إلى مصنف جديد.",
        },
        "fix": {
            "en": "Please fill in the workbook attached to our message, not a copy, and send it.",
            "fr": "Veuillez remplir le classeur joint à notre message, et non une copie, puis "
            "l'envoyer.",
            "ar": "يرجى ملء المصنف المرفق برسالتنا، وليس نسخة منه، ثم إرساله.",
        },
    },
    "identify.meta_altered": {
        "message": {
            "en": "The workbook's identification data has been altered, so we cannot be sure "
            "which questionnaire it answers.",
            "fr": "Les données d'identification du classeur ont été modifiées : nous ne pouvons "
            "pas savoir avec certitude à quel questionnaire il répond.",
            "ar": "تم تغيير بيانات التعريف في المصنف، لذلك لا يمكننا التأكد من الاستبيان الذي "
            "يجيب عنه.",
        },
        "fix": {
            "en": "Please fill in the original workbook we sent you and send it again.",
            "fr": "Veuillez remplir le classeur original que nous vous avons envoyé et le "
            "renvoyer.",
            "ar": "يرجى ملء المصنف الأصلي الذي أرسلناه إليكم وإعادة إرساله.",
        },
    },
    "identify.template_version": {
        "message": {
            "en": "This workbook comes from an earlier edition of the questionnaire ({found}); "
            "returns are read with edition {expected}.",
            "fr": "Ce classeur provient d'une édition antérieure du questionnaire ({found}) ; "
            "les réponses sont lues avec l'édition {expected}.",
            "ar": "هذا المصنف من إصدار سابق للاستبيان ({found})، بينما تُقرأ الإجابات وفق "
            "الإصدار {expected}.",
        },
        "fix": {
            "en": "Please use the workbook we sent for this reporting cycle.",
            "fr": "Veuillez utiliser le classeur envoyé pour ce cycle de suivi.",
            "ar": "يرجى استخدام المصنف المرسل لدورة المتابعة هذه.",
        },
    },
    "identify.wrong_entity": {
        "message": {
            "en": "This workbook is the questionnaire of another country or institution, not "
            "that of {entity}.",
            "fr": "Ce classeur est le questionnaire d'un autre pays ou d'une autre institution, "
            "et non celui de : {entity}.",
            "ar": "هذا المصنف هو استبيان بلد أو مؤسسة أخرى، وليس استبيان {entity}.",
        },
        "fix": {
            "en": "Please send the questionnaire that was sent to {entity}.",
            "fr": "Veuillez envoyer le questionnaire adressé à : {entity}.",
            "ar": "يرجى إرسال الاستبيان الذي أُرسل إلى {entity}.",
        },
    },
    "identify.wrong_cycle": {
        "message": {
            "en": "This workbook belongs to another reporting cycle (no. {found}), not to "
            "cycle no. {expected}.",
            "fr": "Ce classeur appartient à un autre cycle de suivi (n° {found}) et non au "
            "cycle n° {expected}.",
            "ar": "ينتمي هذا المصنف إلى دورة متابعة أخرى (رقم {found}) وليس إلى الدورة رقم "
            "{expected}.",
        },
        "fix": {
            "en": "Please send the workbook we sent for this cycle.",
            "fr": "Veuillez envoyer le classeur que nous avons adressé pour ce cycle.",
            "ar": "يرجى إرسال المصنف الذي أرسلناه لهذه الدورة.",
        },
    },
    "identify.unknown_questionnaire": {
        "message": {
            "en": "We have no record of this questionnaire (no. {found}) for this cycle.",
            "fr": "Nous n'avons aucune trace de ce questionnaire (n° {found}) pour ce cycle.",
            "ar": "لا يوجد لدينا سجل لهذا الاستبيان (رقم {found}) في هذه الدورة.",
        },
        "fix": _GENERIC_FIX,
    },
    "identify.sender": {
        "message": {
            "en": "The workbook came from an address that is not registered as a focal point "
            "of {entity}.",
            "fr": "Le classeur provient d'une adresse qui n'est pas enregistrée comme point "
            "focal de : {entity}.",
            "ar": "ورد المصنف من عنوان غير مسجل كجهة اتصال لـ{entity}.",
        },
        "fix": {
            "en": "Send it from your registered address, or upload it with your personal link.",
            "fr": "Envoyez-le depuis votre adresse enregistrée ou déposez-le avec votre lien "
            "personnel.",
            "ar": "أرسلوه من عنوانكم المسجل، أو ارفعوه عبر رابطكم الشخصي.",
        },
    },
    # --- the contract: the shape of the Return sheet (outcome "refused") ------------------
    "contract.sheet_missing": {
        "message": {
            "en": "The sheet “{sheet}” is missing; it may have been renamed or deleted "
            "(sheets found: {found}).",
            "fr": "La feuille « {sheet} » est absente ; elle a peut-être été renommée ou "
            "supprimée (feuilles trouvées : {found}).",
            "ar": "الورقة «{sheet}» مفقودة، وربما أعيدت تسميتها أو حُذفت (الأوراق الموجودة: "
            "{found}).",
        },
        "fix": {
            "en": "Give the sheet back its name “{sheet}” (right-click its tab > Rename), or "
            "use the workbook we sent.",
            "fr": "Redonnez à la feuille son nom « {sheet} » (clic droit sur l'onglet > "
            "Renommer), ou utilisez le classeur envoyé.",
            "ar": "أعيدوا للورقة اسمها «{sheet}» (انقر بزر الفأرة الأيمن على علامة التبويب > "
            "إعادة تسمية)، أو استخدموا المصنف المرسل.",
        },
    },
    "contract.column_missing": {
        "message": {
            "en": "The column “{column_name}” is missing.",
            "fr": "La colonne « {column_name} » est absente.",
            "ar": "العمود «{column_name}» مفقود.",
        },
        "fix": {
            "en": "Restore the column as it was in the workbook we sent; do not delete columns.",
            "fr": "Rétablissez la colonne telle qu'elle figurait dans le classeur envoyé ; ne "
            "supprimez pas de colonnes.",
            "ar": "أعيدوا العمود كما كان في المصنف المرسل، ولا تحذفوا أي أعمدة.",
        },
    },
    "contract.column_unexpected": {
        "message": {
            "en": "Column {letter} (“{found}”) is not part of the questionnaire.",
            "fr": "La colonne {letter} (« {found} ») ne fait pas partie du questionnaire.",
            "ar": "العمود {letter} («{found}») ليس جزءًا من الاستبيان.",
        },
        "fix": {
            "en": "Delete this column; put any extra information in “Measures taken” or "
            "“Challenges encountered”.",
            "fr": "Supprimez cette colonne ; ajoutez toute information supplémentaire dans "
            "« Mesures prises » ou « Difficultés rencontrées ».",
            "ar": "احذفوا هذا العمود، وضعوا أي معلومات إضافية في «التدابير المتخذة» أو "
            "«التحديات التي تمت مواجهتها».",
        },
    },
    "contract.column_renamed": {
        "message": {
            "en": "Column {letter} should be titled “{column_name}” but is titled “{found}”.",
            "fr": "La colonne {letter} devrait s'intituler « {column_name} » mais s'intitule "
            "« {found} ».",
            "ar": "يجب أن يكون عنوان العمود {letter} «{column_name}» لكنه «{found}».",
        },
        "fix": {
            "en": "Give the column back its original title.",
            "fr": "Redonnez à la colonne son titre d'origine.",
            "ar": "أعيدوا للعمود عنوانه الأصلي.",
        },
    },
    "contract.column_order": {
        "message": {
            "en": "The column “{column_name}” has been moved.",
            "fr": "La colonne « {column_name} » a été déplacée.",
            "ar": "تم نقل العمود «{column_name}» من مكانه.",
        },
        "fix": {
            "en": "Put the columns back in the order of the workbook we sent.",
            "fr": "Remettez les colonnes dans l'ordre du classeur envoyé.",
            "ar": "أعيدوا الأعمدة إلى ترتيبها في المصنف المرسل.",
        },
    },
    "contract.paragraph_missing": {
        "message": {
            "en": "The row for paragraph {paragraph} of resolution {resolution} is missing.",
            "fr": "La ligne du paragraphe {paragraph} de la résolution {resolution} est absente.",
            "ar": "الصف الخاص بالفقرة {paragraph} من القرار {resolution} مفقود.",
        },
        "fix": {
            "en": "Restore this row from the workbook we sent, and answer it.",
            "fr": "Rétablissez cette ligne à partir du classeur envoyé et renseignez-la.",
            "ar": "أعيدوا هذا الصف من المصنف المرسل وأجيبوا عنه.",
        },
    },
    "partial.still_owed": {
        "message": {
            "en": "Resolution {resolution}: paragraphs {paragraphs} are not answered yet; "
            "the answers you sent for the others were recorded.",
            "fr": "Résolution {resolution} : les paragraphes {paragraphs} n'ont pas encore "
            "reçu de réponse ; vos réponses aux autres paragraphes ont été enregistrées.",
            "ar": "القرار {resolution}: لم تُقدَّم بعدُ إجابات عن الفقرات {paragraphs}، "
            "وقد سُجّلت إجاباتكم عن الفقرات الأخرى.",
        },
        "fix": {
            "en": "Whoever answers these paragraphs (another ministry, for instance) may send "
            "the same workbook with only their rows filled in: answers already recorded are "
            "kept.",
            "fr": "Le service qui répond à ces paragraphes (un autre ministère, par exemple) "
            "peut envoyer le même classeur en ne remplissant que ses lignes : les réponses "
            "déjà enregistrées sont conservées.",
            "ar": "يمكن للجهة التي تجيب عن هذه الفقرات (وزارة أخرى مثلًا) أن ترسل المصنف نفسه "
            "بعد ملء صفوفها فقط، وتُحفظ الإجابات المسجلة من قبل.",
        },
    },
    "contract.paragraph_unexpected": {
        "message": {
            "en": "This row is for paragraph {paragraph} of resolution {resolution}, which was "
            "not in your questionnaire.",
            "fr": "Cette ligne concerne le paragraphe {paragraph} de la résolution "
            "{resolution}, qui ne figurait pas dans votre questionnaire.",
            "ar": "يخص هذا الصف الفقرة {paragraph} من القرار {resolution}، وهي لم تكن ضمن "
            "استبيانكم.",
        },
        "fix": {
            "en": "Delete this row.",
            "fr": "Supprimez cette ligne.",
            "ar": "احذفوا هذا الصف.",
        },
    },
    "contract.paragraph_duplicated": {
        "message": {
            "en": "Paragraph {paragraph} of resolution {resolution} appears more than once.",
            "fr": "Le paragraphe {paragraph} de la résolution {resolution} apparaît plus d'une "
            "fois.",
            "ar": "تتكرر الفقرة {paragraph} من القرار {resolution} أكثر من مرة.",
        },
        "fix": {
            "en": "Keep a single row per paragraph: merge the answers and delete this row.",
            "fr": "Gardez une seule ligne par paragraphe : regroupez les réponses et supprimez "
            "cette ligne.",
            "ar": "احتفظوا بصف واحد لكل فقرة: اجمعوا الإجابات واحذفوا هذا الصف.",
        },
    },
    "contract.paragraph_invalid": {
        "message": {
            "en": "“{value}” is not a paragraph number.",
            "fr": "« {value} » n'est pas un numéro de paragraphe.",
            "ar": "«{value}» ليس رقم فقرة.",
        },
        "fix": {
            "en": "Restore the paragraph number from the workbook we sent.",
            "fr": "Rétablissez le numéro de paragraphe du classeur envoyé.",
            "ar": "أعيدوا رقم الفقرة كما ورد في المصنف المرسل.",
        },
    },
    "contract.resolution_missing": {
        "message": {
            "en": "The resolution of this row is missing.",
            "fr": "La résolution de cette ligne est absente.",
            "ar": "القرار الخاص بهذا الصف مفقود.",
        },
        "fix": {
            "en": "Restore the row from the workbook we sent.",
            "fr": "Rétablissez la ligne à partir du classeur envoyé.",
            "ar": "أعيدوا الصف من المصنف المرسل.",
        },
    },
    "contract.status_unknown": {
        "message": {
            "en": "“{value}” is not one of the statuses of the list.",
            "fr": "« {value} » ne fait pas partie des états de la liste.",
            "ar": "«{value}» ليست من الحالات الواردة في القائمة.",
        },
        "fix": {
            "en": "Choose a status from the drop-down list: {choices}.",
            "fr": "Choisissez un état dans la liste déroulante : {choices}.",
            "ar": "اختاروا حالة من القائمة المنسدلة: {choices}.",
        },
    },
    "contract.date_invalid": {
        "message": {
            "en": "“{value}” is not a date that can be read.",
            "fr": "« {value} » n'est pas une date lisible.",
            "ar": "«{value}» ليس تاريخًا يمكن قراءته.",
        },
        "fix": {
            "en": "Type the date as YYYY-MM-DD, for example 2024-03-15.",
            "fr": "Saisissez la date au format AAAA-MM-JJ, par exemple 2024-03-15.",
            "ar": "اكتبوا التاريخ بصيغة YYYY-MM-DD، مثال: \u200e2024-03-15.",
        },
    },
    "contract.date_out_of_range": {
        "message": {
            "en": "The date {value} is not between {min} and {max}.",
            "fr": "La date {value} n'est pas comprise entre le {min} et le {max}.",
            "ar": "التاريخ \u200e{value} ليس بين \u200e{min} و\u200e{max}.",
        },
        "fix": {
            "en": "Check the year; type the date as YYYY-MM-DD.",
            "fr": "Vérifiez l'année ; saisissez la date au format AAAA-MM-JJ.",
            "ar": "تحققوا من السنة، واكتبوا التاريخ بصيغة YYYY-MM-DD.",
        },
    },
    "contract.text_too_long": {
        "message": {
            "en": "This cell holds {length} characters; the limit is {max}.",
            "fr": "Cette cellule contient {length} caractères ; la limite est de {max}.",
            "ar": "تحتوي هذه الخلية على {length} حرفًا، والحد الأقصى {max}.",
        },
        "fix": {
            "en": "Shorten it; put the details in a document and give its link under "
            "“Evidence (links)”.",
            "fr": "Raccourcissez-la ; placez le détail dans un document et indiquez son lien "
            "sous « Justificatifs (liens) ».",
            "ar": "اختصروا النص، وضعوا التفاصيل في وثيقة وأدرجوا رابطها في «الأدلة (روابط)».",
        },
    },
    "contract.formula": {
        "message": {
            "en": "Cell {cell} contains a formula; answers must be typed values.",
            "fr": "La cellule {cell} contient une formule ; les réponses doivent être des "
            "valeurs saisies.",
            "ar": "تحتوي الخلية {cell} على صيغة حسابية، ويجب أن تكون الإجابات قيمًا مكتوبة.",
        },
        "fix": {
            "en": "Replace the formula by its value: copy the cell, then Paste Special > Values.",
            "fr": "Remplacez la formule par sa valeur : copiez la cellule, puis Collage "
            "spécial > Valeurs.",
            "ar": "استبدلوا الصيغة بقيمتها: انسخوا الخلية ثم لصق خاص > قيم.",
        },
    },
    "contract.merged_cells": {
        "message": {
            "en": "Cells {cells} have been merged.",
            "fr": "Les cellules {cells} ont été fusionnées.",
            "ar": "تم دمج الخلايا {cells}.",
        },
        "fix": {
            "en": "Unmerge them (Home > Merge & Center > Unmerge Cells) and answer each row "
            "separately.",
            "fr": "Annulez la fusion (Accueil > Fusionner et centrer > Annuler Fusionner "
            "cellules) et répondez ligne par ligne.",
            "ar": "ألغوا الدمج (الصفحة الرئيسية > دمج وتوسيط > إلغاء دمج الخلايا) وأجيبوا عن كل "
            "صف على حدة.",
        },
    },
    "contract.control_characters": {
        "message": {
            "en": "Invisible control characters were removed from this cell.",
            "fr": "Des caractères de contrôle invisibles ont été retirés de cette cellule.",
            "ar": "أزيلت أحرف تحكم غير مرئية من هذه الخلية.",
        },
        "fix": {
            "en": "Nothing to do; please check that the text reads as you intended.",
            "fr": "Rien à faire ; vérifiez simplement que le texte se lit comme prévu.",
            "ar": "لا يلزم أي إجراء؛ يرجى التأكد من أن النص يُقرأ كما أردتم.",
        },
    },
    "contract.value_missing": {
        "message": {
            "en": "This cell must not be empty.",
            "fr": "Cette cellule ne doit pas être vide.",
            "ar": "يجب ألا تكون هذه الخلية فارغة.",
        },
        "fix": {
            "en": "Restore its content from the workbook we sent.",
            "fr": "Rétablissez son contenu à partir du classeur envoyé.",
            "ar": "أعيدوا محتواها من المصنف المرسل.",
        },
    },
    "contract.value_invalid": {
        "message": {
            "en": "“{value}” is not a valid value for this column.",
            "fr": "« {value} » n'est pas une valeur valide pour cette colonne.",
            "ar": "«{value}» ليست قيمة صالحة لهذا العمود.",
        },
        "fix": _GENERIC_FIX,
    },
    "contract.row_count": {
        "message": {
            "en": "The sheet has {found} answer rows, but the questionnaire sent had {expected}.",
            "fr": "La feuille compte {found} lignes de réponse, alors que le questionnaire envoyé "
            "en comptait {expected}.",
            "ar": "تحتوي الورقة على {found} صفًا للإجابات، بينما كان الاستبيان المرسل يتضمن "
            "{expected}.",
        },
        "fix": {
            "en": "Keep the rows as in the workbook we sent: do not add or delete rows.",
            "fr": "Conservez les lignes du classeur envoyé : n'en ajoutez ni n'en supprimez.",
            "ar": "احتفظوا بالصفوف كما في المصنف المرسل: لا تضيفوا صفوفًا ولا تحذفوها.",
        },
    },
    "contract.rows_reordered": {
        "message": {
            "en": "The rows are not in the order we sent them; each answer was matched to its "
            "paragraph number, so nothing is lost.",
            "fr": "Les lignes ne sont pas dans l'ordre d'envoi ; chaque réponse a été rattachée "
            "à son numéro de paragraphe, rien n'est perdu.",
            "ar": "الصفوف ليست بالترتيب الذي أرسلناه، وقد رُبطت كل إجابة برقم فقرتها، فلم يضع شيء.",
        },
        "fix": {
            "en": "Nothing to do.",
            "fr": "Rien à faire.",
            "ar": "لا يلزم أي إجراء.",
        },
    },
}


#: Words of the feedback itself (summary sheet, email), by key then language.
FEEDBACK: Final[dict[str, Texts]] = {
    "sheet_title": {"en": "Feedback", "fr": "Remarques", "ar": "ملاحظات"},
    "heading": {
        "en": "Our reading of your return",
        "fr": "Notre lecture de votre réponse",
        "ar": "قراءتنا لردّكم",
    },
    "outcome.accepted": {
        "en": "Your return has been accepted. Thank you.",
        "fr": "Votre réponse a été acceptée. Merci.",
        "ar": "تم قبول ردّكم. شكرًا لكم.",
    },
    "outcome.accepted_with_warnings": {
        "en": "Your return has been accepted. Please look at the remarks below: if something "
        "needs correcting, send the corrected workbook and it will replace this one.",
        "fr": "Votre réponse a été acceptée. Veuillez examiner les remarques ci-dessous : si "
        "une correction s'impose, envoyez le classeur corrigé, il remplacera celui-ci.",
        "ar": "تم قبول ردّكم. يرجى الاطلاع على الملاحظات أدناه: إذا لزم تصحيح أي شيء، "
        "فأرسلوا المصنف المصحح وسيحل محل هذا المصنف.",
    },
    "outcome.refused": {
        "en": "Your return could not be accepted yet, and nothing from this file has been "
        "recorded. Please correct the points below (marked in red in the attached copy of "
        "your workbook) and send the workbook again.",
        "fr": "Votre réponse n'a pas encore pu être acceptée et rien de ce fichier n'a été "
        "enregistré. Veuillez corriger les points ci-dessous (en rouge dans la copie jointe "
        "de votre classeur) et renvoyer le classeur.",
        "ar": "تعذر قبول ردّكم حتى الآن، ولم يُسجَّل أي شيء من هذا الملف. يرجى تصحيح النقاط "
        "الواردة أدناه (المميزة باللون الأحمر في النسخة المرفقة من مصنفكم) وإعادة إرسال "
        "المصنف.",
    },
    "outcome.unreadable": {
        "en": "Your file could not be opened, and nothing from it has been recorded.",
        "fr": "Votre fichier n'a pas pu être ouvert et rien n'en a été enregistré.",
        "ar": "تعذر فتح ملفكم، ولم يُسجَّل أي شيء منه.",
    },
    "subject.accepted": {
        "en": "Return accepted",
        "fr": "Réponse acceptée",
        "ar": "تم قبول الرد",
    },
    "subject.accepted_with_warnings": {
        "en": "Return accepted, with remarks",
        "fr": "Réponse acceptée, avec des remarques",
        "ar": "تم قبول الرد مع ملاحظات",
    },
    "subject.refused": {
        "en": "Return to be corrected",
        "fr": "Réponse à corriger",
        "ar": "رد يحتاج إلى تصحيح",
    },
    "subject.unreadable": {
        "en": "File could not be opened",
        "fr": "Fichier illisible",
        "ar": "تعذر فتح الملف",
    },
    "col.row": {"en": "Row", "fr": "Ligne", "ar": "الصف"},
    "col.paragraph": {"en": "Paragraph", "fr": "Paragraphe", "ar": "الفقرة"},
    "col.column": {"en": "Column", "fr": "Colonne", "ar": "العمود"},
    "col.problem": {"en": "What is wrong", "fr": "Problème", "ar": "المشكلة"},
    "col.fix": {"en": "How to fix it", "fr": "Comment corriger", "ar": "طريقة التصحيح"},
    "severity.blocker": {"en": "To correct", "fr": "À corriger", "ar": "يجب تصحيحه"},
    "severity.warning": {"en": "Remark", "fr": "Remarque", "ar": "ملاحظة"},
    "file": {"en": "File", "fr": "Fichier", "ar": "الملف"},
    "received": {"en": "Received", "fr": "Reçu le", "ar": "تاريخ الاستلام"},
    "answers": {
        "en": "Answers recorded",
        "fr": "Réponses enregistrées",
        "ar": "الإجابات المسجلة",
    },
}


def feedback_text(key: str, language: str) -> str:
    """A word of the feedback in ``language`` (English for an unknown language)."""
    texts = FEEDBACK[key]
    for lang in LANGUAGES:
        if lang == language:
            return texts[lang]
    return texts["en"]


_FORMATTER = string.Formatter()


@lru_cache(maxsize=1)
def quality_rules() -> dict[str, dict[str, Texts]]:
    """The wording of the quality rules, read from the expectation suite's ``meta``.

    Plain JSON: no Great Expectations import, so the portal and the CLI can word them too.
    """
    from resotrack.validation.config import suite_path

    suite = json.loads(suite_path().read_text("utf-8"))
    found: dict[str, dict[str, Texts]] = {}
    for expectation in suite.get("expectations", []):
        meta = expectation.get("meta") or {}
        rule = meta.get("rule")
        if not rule:
            raise ValueError(f"expectation {expectation.get('type')} has no meta.rule")
        texts = {"message": meta.get("message") or {}, "fix": meta.get("fix") or {}}
        _check_complete(rule, texts)
        found[rule] = texts
    return found


def _check_complete(rule: str, texts: Mapping[str, Any]) -> None:
    for part in ("message", "fix"):
        missing = [lang for lang in LANGUAGES if not (texts.get(part) or {}).get(lang)]
        if missing:
            raise ValueError(f"rule {rule}: {part} is not translated into {', '.join(missing)}")


def wording(rule: str) -> Mapping[str, Texts]:
    """The ``message`` and ``fix`` of ``rule``; an unknown rule is a programming error."""
    texts = RULES.get(rule) or quality_rules().get(rule)
    if texts is None:
        raise KeyError(f"no wording for validation rule {rule!r}")
    return texts


def _pick(value: Any, language: Language) -> Any:
    if isinstance(value, Mapping) and "en" in value:
        return value.get(language) or value["en"]
    return value


def _fill(template: str, values: Mapping[str, Any], language: Language) -> str:
    """``template`` with its placeholders filled; a placeholder without a value stays visible."""
    needed = {name for _, name, _, _ in _FORMATTER.parse(template) if name}
    filled = {name: _pick(values.get(name, "{" + name + "}"), language) for name in needed}
    return template.format(**filled)


def language_values(problem: Problem) -> dict[str, Any]:
    """Values every message may use, per language: the column's title and the status list."""
    values: dict[str, Any] = dict(problem.values)
    if problem.column and "column_name" not in values:
        key = f"column.{problem.column}"
        try:
            values["column_name"] = {lang: text(key, lang) for lang in LANGUAGES}
        except KeyError:
            values["column_name"] = problem.column
    values.setdefault("choices", {lang: ", ".join(status_labels(lang)) for lang in LANGUAGES})
    values.setdefault("cell", problem.cell or "")
    values.setdefault("paragraph", problem.paragraph if problem.paragraph is not None else "")
    values.setdefault("resolution", problem.resolution or "")
    return values


def describe(problem: Problem) -> tuple[dict[str, str], dict[str, str]]:
    """The problem's message and fix, each as ``{"ar", "en", "fr"}``."""
    texts = wording(problem.rule)
    values = language_values(problem)
    message: dict[str, str] = {
        lang: _fill(texts["message"][lang], values, lang) for lang in LANGUAGES
    }
    fix: dict[str, str] = {lang: _fill(texts["fix"][lang], values, lang) for lang in LANGUAGES}
    return message, fix


for _rule, _texts in RULES.items():
    _check_complete(_rule, _texts)
for _key, _words in FEEDBACK.items():
    if any(not _words.get(_lang) for _lang in LANGUAGES):
        raise RuntimeError(f"feedback word {_key} is not translated into every language")

__all__ = ["FEEDBACK", "RULES", "describe", "feedback_text", "quality_rules", "wording"]
