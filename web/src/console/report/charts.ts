import type { ServiceReport } from '../../types';
import { formatHourSpan } from '../../format';
import type { ChartOption } from './EChart.vue';

/** The console's colours (Element Plus's), so charts match the page. */
const BLUE = '#409eff';
const COLORS = ['#67c23a', '#409eff', '#f56c6c', '#e6a23c', '#909399'];

const bars = (names: string[], values: number[], name: string, horizontal = false): ChartOption => ({
  color: [BLUE],
  tooltip: { trigger: 'axis' },
  grid: { left: horizontal ? 110 : 40, right: 24, top: 16, bottom: horizontal ? 24 : 40 },
  [horizontal ? 'yAxis' : 'xAxis']: { type: 'category', data: names, axisLabel: { interval: horizontal ? 0 : 1 } },
  [horizontal ? 'xAxis' : 'yAxis']: { type: 'value', minInterval: 1 },
  series: [{ type: 'bar', name, data: values }],
} as ChartOption);

/** Questions per hour of the day (Beijing time). */
export function hoursChart(r: ServiceReport): ChartOption {
  return bars(r.hours.map((_, h) => formatHourSpan(h).slice(0, 5)), r.hours, '咨询量');
}

/** Ratings by 非常满意 / 满意 / 不满意. */
export function csatChart(r: ServiceReport): ChartOption {
  return {
    color: COLORS,
    tooltip: { trigger: 'item', formatter: '{b}：{c}（{d}%）' },
    legend: { bottom: 0 },
    series: [{ type: 'pie', radius: ['40%', '70%'], name: '满意度', data: r.tickets.csat.map((c) => ({ name: c.label, value: c.count })) }],
  };
}

/** Tickets by category. */
export function categoriesChart(r: ServiceReport): ChartOption {
  return bars(r.tickets.byCategory.map((c) => c.key), r.tickets.byCategory.map((c) => c.count), '工单数', true);
}

/** Read rate by office, in percent. */
export function readsChart(r: ServiceReport): ChartOption {
  return bars(r.reads.byOffice.map((o) => o.office), r.reads.byOffice.map((o) => (o.readRate === null ? 0 : Math.round(o.readRate * 1000) / 10)), '阅读率（%）', true);
}
