/**
 * What a message asks of the service besides an answer: a person (转人工), a complaint or report
 * (投诉, 举报), the state of one's ticket (查询工单), or to reopen it (还没解决). Decided before the
 * FAQ is searched. A question that merely mentions the words (投诉渠道有哪些, 怎么举报虚开发票) is a
 * question: it goes to the FAQ, whose entries answer it.
 */

/** The kinds of complaint the offices count (《纳税服务投诉管理办法》), and 政策咨询类 for a plain 转人工. */
export type TicketCategory = '服务态度类' | '服务质效类' | '侵害权益类' | '政策咨询类';

/** What the message wants, if it is not a question for the FAQ. */
export type Intent =
  | { readonly kind: 'human' }
  | { readonly kind: 'complaint'; readonly category: TicketCategory }
  | { readonly kind: 'status' }
  | { readonly kind: 'reopen' }
  | null;

/** Asking for a person, in the ways people say it. */
const HUMAN = new RegExp(
  [
    '^/human$', '转人工', '转接人工', '人工客服', '人工服务', '^人工$', '^找人工$', '接人工', '要人工', '找(?:个|一个)?人工',
    '找工作人员', '联系工作人员', '工作人员(?:回|联系|处理|来|跟)我', '让工作人员', '找(?:个|一个)?真人', '真人客服', '要真人',
    '找客服', '客服在吗', '有没有(?:真)?人', '有人工吗', '能不能(?:让|找)(?:人|工作人员)', '叫(?:个)?人来', '我要找人',
  ].join('|'),
  'u',
);
/** A complaint or a report: the act, not a question about how it is done. */
const COMPLAINT = /投诉|举报|不满意|态度(?:太|很|极其|非常|特别)?(?:差|恶劣|不好|凶)|服务太差|太差劲|告你们|告他|要告|检举/u;
/** A question about complaining or reporting (which the FAQ answers), unless the person says they want to. */
const ABOUT_COMPLAINING = /怎么|怎样|如何|哪|渠道|电话|热线|方式|途径|流程|程序|多久|几天|奖励|有奖|能不能|可以吗|吗[?？]?$|[?？]$/u;
const WANTS_TO = /^(?:我|我们|俺|本人)?(?:要|想|需要|必须|一定要|坚决)(?:投诉|举报|检举)|^(?:投诉|举报)[:：\s]|投诉你们|投诉(?:这个|那个|你们的|税务局的)/u;
const STATUS = /查询工单|我的工单|工单(?:进度|状态|到哪|怎么样|处理得怎么样)|查(?:一下|下)?工单|^工单$/u;
const REOPEN = /还没(?:有)?解决|没有解决|问题没解决|重新打开|重开工单|再打开|没(?:给我)?解决/u;

/** Complaint kinds by what people say about the service; 服务质效类 by default for a complaint. */
const KINDS: readonly [TicketCategory, RegExp][] = [
  ['侵害权益类', /乱收费|多收|索要|吃拿卡要|刁难|泄露|隐私|违规|违法|不公|侵害|权益|打人|威胁/u],
  ['服务态度类', /态度|凶|骂|不耐烦|冷漠|脸色|吼|推诿|爱理不理|不理人|不礼貌/u],
  ['服务质效类', /效率|太慢|排队|等了|拖|办不了|不给办|跑了|多次|来回|系统|出错|错误|没人接|打不通/u],
];

/** What a message (its question, mention and 请问 removed) wants; null when it is a question for the FAQ. */
export function intentOf(text: string): Intent {
  const t = text.normalize('NFKC').trim().replace(/[\s。.！!]+$/u, '');
  if (!t) return null;
  if (STATUS.test(t)) return { kind: 'status' };
  if (REOPEN.test(t) && !ABOUT_COMPLAINING.test(t.replace(REOPEN, ''))) return { kind: 'reopen' };
  if (COMPLAINT.test(t) && (WANTS_TO.test(t) || !ABOUT_COMPLAINING.test(t))) {
    return { kind: 'complaint', category: KINDS.find(([, re]) => re.test(t))?.[0] ?? '服务质效类' };
  }
  if (HUMAN.test(t)) return { kind: 'human' };
  return null;
}

/** The answers that confirm an offer of a person (是, 好, 转人工, 1 ...). */
const YES = /^(?:是|是的|好|好的|可以|行|要|需要|确认|确定|嗯|对|1|转人工|转|转吧|麻烦了|麻烦转一下|ok|yes)$/iu;

/** Whether a reply confirms the bot's offer to pass the user on to a person. */
export function confirmsOffer(text: string): boolean {
  return YES.test(text.normalize('NFKC').trim().replace(/[\s。.！!，,~～]+$/u, ''));
}

/** A rating reply: 1 非常满意, 2 满意, 3 不满意 (the digit, or the words). */
export function ratingOf(text: string): 1 | 2 | 3 | null {
  const t = text.normalize('NFKC').trim().replace(/[\s。.！!，,~～]+$/u, '');
  if (/^(?:1|一|非常满意|很满意|特别满意)$/u.test(t)) return 1;
  if (/^(?:2|二|满意|还行|还可以|可以|一般)$/u.test(t)) return 2;
  if (/^(?:3|三|不满意|很不满意|非常不满意|差|太差)$/u.test(t)) return 3;
  return null;
}
