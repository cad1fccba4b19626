/**
 * The 80 COCO detection classes in the order both detectors emit them (class index 0..79), spelled as COCO
 * spells them, with a Chinese name and the COCO supercategory (used as the label category of /v1/vision/labels).
 */
export interface CocoClass {
  id: number;
  name: string;
  nameZh: string;
  supercategory: string;
}

const table: [string, string, string][] = [
  ['person', '人', 'person'],
  ['bicycle', '自行车', 'vehicle'], ['car', '汽车', 'vehicle'], ['motorcycle', '摩托车', 'vehicle'],
  ['airplane', '飞机', 'vehicle'], ['bus', '公共汽车', 'vehicle'], ['train', '火车', 'vehicle'],
  ['truck', '卡车', 'vehicle'], ['boat', '船', 'vehicle'],
  ['traffic light', '交通信号灯', 'outdoor'], ['fire hydrant', '消防栓', 'outdoor'], ['stop sign', '停车标志', 'outdoor'],
  ['parking meter', '停车计时器', 'outdoor'], ['bench', '长椅', 'outdoor'],
  ['bird', '鸟', 'animal'], ['cat', '猫', 'animal'], ['dog', '狗', 'animal'], ['horse', '马', 'animal'],
  ['sheep', '羊', 'animal'], ['cow', '牛', 'animal'], ['elephant', '大象', 'animal'], ['bear', '熊', 'animal'],
  ['zebra', '斑马', 'animal'], ['giraffe', '长颈鹿', 'animal'],
  ['backpack', '背包', 'accessory'], ['umbrella', '雨伞', 'accessory'], ['handbag', '手提包', 'accessory'],
  ['tie', '领带', 'accessory'], ['suitcase', '手提箱', 'accessory'],
  ['frisbee', '飞盘', 'sports'], ['skis', '滑雪板', 'sports'], ['snowboard', '单板滑雪板', 'sports'],
  ['sports ball', '球', 'sports'], ['kite', '风筝', 'sports'], ['baseball bat', '棒球棒', 'sports'],
  ['baseball glove', '棒球手套', 'sports'], ['skateboard', '滑板', 'sports'], ['surfboard', '冲浪板', 'sports'],
  ['tennis racket', '网球拍', 'sports'],
  ['bottle', '瓶子', 'kitchen'], ['wine glass', '酒杯', 'kitchen'], ['cup', '杯子', 'kitchen'], ['fork', '叉子', 'kitchen'],
  ['knife', '刀', 'kitchen'], ['spoon', '勺子', 'kitchen'], ['bowl', '碗', 'kitchen'],
  ['banana', '香蕉', 'food'], ['apple', '苹果', 'food'], ['sandwich', '三明治', 'food'], ['orange', '橙子', 'food'],
  ['broccoli', '西兰花', 'food'], ['carrot', '胡萝卜', 'food'], ['hot dog', '热狗', 'food'], ['pizza', '披萨', 'food'],
  ['donut', '甜甜圈', 'food'], ['cake', '蛋糕', 'food'],
  ['chair', '椅子', 'furniture'], ['couch', '沙发', 'furniture'], ['potted plant', '盆栽', 'furniture'],
  ['bed', '床', 'furniture'], ['dining table', '餐桌', 'furniture'], ['toilet', '马桶', 'furniture'],
  ['tv', '电视', 'electronic'], ['laptop', '笔记本电脑', 'electronic'], ['mouse', '鼠标', 'electronic'],
  ['remote', '遥控器', 'electronic'], ['keyboard', '键盘', 'electronic'], ['cell phone', '手机', 'electronic'],
  ['microwave', '微波炉', 'appliance'], ['oven', '烤箱', 'appliance'], ['toaster', '烤面包机', 'appliance'],
  ['sink', '水槽', 'appliance'], ['refrigerator', '冰箱', 'appliance'],
  ['book', '书', 'indoor'], ['clock', '时钟', 'indoor'], ['vase', '花瓶', 'indoor'], ['scissors', '剪刀', 'indoor'],
  ['teddy bear', '泰迪熊', 'indoor'], ['hair drier', '吹风机', 'indoor'], ['toothbrush', '牙刷', 'indoor'],
];

export const cocoClasses: readonly CocoClass[] = table.map(([name, nameZh, supercategory], id) => ({ id, name, nameZh, supercategory }));
export const cocoNames: readonly string[] = cocoClasses.map((c) => c.name);

/** Chinese names of the supercategories, for labels answered with lang=zh. */
export const supercategoryZh: Record<string, string> = {
  person: '人物', vehicle: '交通工具', outdoor: '户外', animal: '动物', accessory: '配饰', sports: '运动',
  kitchen: '厨具', food: '食物', furniture: '家具', electronic: '电子产品', appliance: '家用电器', indoor: '室内物品',
};
